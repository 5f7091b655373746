using System;

namespace ProcessPool.Engine
{
    /// <summary>The byte stream between parent and worker broke the protocol: a malformed, truncated or oversized frame, or a failed handshake.</summary>
    public class ProtocolException : PoolException
    {
        /// <summary>Creates the exception with a message naming what was wrong.</summary>
        public ProtocolException(string message, Exception? inner = null) : base(message, inner) { }

        internal ProtocolException(string message, bool streamEnded) : base(message) => StreamEnded = streamEnded;
        internal ProtocolException(string message, Exception? inner, bool streamEnded) : base(message, inner) => StreamEnded = streamEnded;

        /// <summary>The stream ended (mid-frame or before an expected frame): the other side is gone, not misbehaving,
        /// so its end (a signal, an exit code) says more than this exception.</summary>
        internal bool StreamEnded { get; }
    }
}
