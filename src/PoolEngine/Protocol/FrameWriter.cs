using System.IO;

namespace ProcessPool.Engine.Protocol
{
    /// <summary>Writes frames to a byte stream. Not thread-safe: callers that share a writer hold <see cref="SyncRoot"/>.</summary>
    internal sealed class FrameWriter
    {
        private readonly Stream _stream;
        private readonly byte[] _header = new byte[ProtocolConstants.HeaderSize];

        public FrameWriter(Stream stream) => _stream = stream;

        public object SyncRoot { get; } = new object();

        public void Write(FrameType type, ByteBuffer body) => Write(type, body.RawData, 0, body.Length);

        /// <summary>Writes only a header; the caller then writes exactly <paramref name="count"/> body bytes to the stream.</summary>
        public void WriteHeader(FrameType type, int count)
        {
            _header[0] = ProtocolConstants.FrameMark;
            _header[1] = (byte)type;
            _header[2] = (byte)count;
            _header[3] = (byte)(count >> 8);
            _header[4] = (byte)(count >> 16);
            _header[5] = (byte)(count >> 24);
            _stream.Write(_header, 0, _header.Length);
        }

        public void Write(FrameType type, byte[] body, int offset, int count)
        {
            WriteHeader(type, count);
            if (count > 0) _stream.Write(body, offset, count);
        }

        public void WriteEmpty(FrameType type) => Write(type, System.Array.Empty<byte>(), 0, 0);

        public void Flush() => _stream.Flush();
    }
}
