using System;

namespace ProcessPool.Engine
{
    /// <summary>The pool cannot run work at all: workers cannot be started, fail their handshake, or fail their initializer every time.</summary>
    public sealed class BrokenPoolException : PoolException
    {
        /// <summary>Creates the exception; <paramref name="inner"/> is the last start failure.</summary>
        public BrokenPoolException(string message, Exception? inner = null) : base(message, inner) { }
    }
}
