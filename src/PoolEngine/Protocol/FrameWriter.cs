using System;
using System.Buffers.Binary;
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
            BinaryPrimitives.WriteInt32LittleEndian(_header.AsSpan(2, 4), count);
            _stream.Write(_header, 0, _header.Length);
        }

        /// <summary>Part of the body announced by <see cref="WriteHeader"/>; the parts must add up to its count.</summary>
        public void WriteBodyPart(byte[] data, int offset, int count) => _stream.Write(data, offset, count);

        public void Write(FrameType type, byte[] body, int offset, int count)
        {
            WriteHeader(type, count);
            if (count > 0) _stream.Write(body, offset, count);
        }

        public void WriteEmpty(FrameType type) => Write(type, Array.Empty<byte>(), 0, 0);

        public void Flush() => _stream.Flush();
    }
}
