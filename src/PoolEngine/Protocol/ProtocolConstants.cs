namespace ProcessPool.Engine.Protocol
{
    /// <summary>Fixed facts of the wire format, shared by both ends.</summary>
    internal static class ProtocolConstants
    {
        /// <summary>Bumped on any incompatible change; the handshake refuses a mismatch.</summary>
        public const ushort Version = 2;

        /// <summary>First byte of every frame header: a cheap check that catches a stream knocked out of step.</summary>
        public const byte FrameMark = 0xB7;

        /// <summary>Mark, type, 4-byte little-endian body length.</summary>
        public const int HeaderSize = 6;

        /// <summary>Opens the Hello body so that a stray program's output is refused at once.</summary>
        public static readonly byte[] HelloMagic = { (byte)'P', (byte)'P', (byte)'O', (byte)'L' };

        /// <summary>Default cap on one frame's body: large enough for big chunks, small enough that a corrupt length is caught before it allocates.</summary>
        public const int DefaultMaxFrameBytes = 256 * 1024 * 1024;
    }
}
