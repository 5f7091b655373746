using System;
using System.Buffers.Binary;
using System.IO;

namespace ProcessPool.Engine.Protocol
{
    /// <summary>Reads frames from a byte stream. One reader per stream, used by one thread; the body buffer is reused, so a frame is valid only until the next read.</summary>
    internal sealed class FrameReader
    {
        private readonly Stream _stream;
        private readonly int _maxFrameBytes;
        private readonly byte[] _header = new byte[ProtocolConstants.HeaderSize];
        private byte[] _body = new byte[64 * 1024];

        public FrameReader(Stream stream, int maxFrameBytes = ProtocolConstants.DefaultMaxFrameBytes)
        {
            _stream = stream;
            _maxFrameBytes = maxFrameBytes;
        }

        /// <summary>The next frame, or false at a clean end of stream (between frames).</summary>
        public bool TryRead(out FrameType type, out BodyReader body)
        {
            type = default;
            body = default;
            int got = ReadFully(_header, 0, ProtocolConstants.HeaderSize);
            if (got == 0) return false;
            if (got < ProtocolConstants.HeaderSize)
                throw new ProtocolException($"Truncated frame: the stream ended after {got} of {ProtocolConstants.HeaderSize} header bytes.", streamEnded: true);
            if (_header[0] != ProtocolConstants.FrameMark)
                throw new ProtocolException($"Malformed frame: expected frame mark 0x{ProtocolConstants.FrameMark:X2}, read 0x{_header[0]:X2} ({Describe(_header)}).");
            type = (FrameType)_header[1];
            if (!Enum.IsDefined(typeof(FrameType), type))
                throw new ProtocolException($"Malformed frame: unknown frame type 0x{_header[1]:X2}.");
            int length = BinaryPrimitives.ReadInt32LittleEndian(_header.AsSpan(2, 4));
            if (length < 0 || length > _maxFrameBytes)
                throw new ProtocolException($"Oversized frame: a {type} frame declares {(uint)length} bytes; the limit is {_maxFrameBytes}.");
            if (_body.Length < length) _body = new byte[Math.Max(length, _body.Length * 2)];
            int read = ReadFully(_body, 0, length);
            if (read < length)
                throw new ProtocolException($"Truncated frame: the stream ended after {read} of {length} bytes of a {type} frame.", streamEnded: true);
            body = new BodyReader(_body, 0, length);
            return true;
        }

        private int ReadFully(byte[] buffer, int offset, int count)
        {
            int total = 0;
            while (total < count)
            {
                int n = _stream.Read(buffer, offset + total, count - total);
                if (n <= 0) break;
                total += n;
            }
            return total;
        }

        private static string Describe(byte[] header)
        {
            var text = new char[header.Length];
            for (int i = 0; i < header.Length; i++)
                text[i] = header[i] >= 0x20 && header[i] < 0x7F ? (char)header[i] : '.';
            return "\"" + new string(text) + "\"";
        }
    }
}
