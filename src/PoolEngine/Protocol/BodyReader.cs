using System;
using System.Buffers.Binary;
using System.Text;

namespace ProcessPool.Engine.Protocol
{
    /// <summary>Reads the fields of one frame body; every read is bounds-checked so a malformed body raises <see cref="ProtocolException"/>, never an out-of-range index.</summary>
    internal struct BodyReader
    {
        private readonly byte[] _data;
        private readonly int _end;
        private int _pos;

        public BodyReader(byte[] data, int offset, int count)
        {
            _data = data;
            _pos = offset;
            _end = offset + count;
        }

        public int Position => _pos;
        public bool AtEnd => _pos >= _end;
        public int Remaining => _end - _pos;
        public byte[] Data => _data;

        private void Need(int count)
        {
            if (count < 0 || _end - _pos < count)
                throw new ProtocolException($"A frame body ended early: {count} more bytes were expected at offset {_pos}.");
        }

        public byte ReadByte()
        {
            Need(1);
            return _data[_pos++];
        }

        public int ReadInt32()
        {
            Need(4);
            int value = BinaryPrimitives.ReadInt32LittleEndian(_data.AsSpan(_pos, 4));
            _pos += 4;
            return value;
        }

        public long ReadInt64()
        {
            Need(8);
            long value = BinaryPrimitives.ReadInt64LittleEndian(_data.AsSpan(_pos, 8));
            _pos += 8;
            return value;
        }

        /// <summary>A count read from the wire, checked against what the remaining body could possibly hold.</summary>
        public int ReadCount(int minBytesPerElement)
        {
            int count = ReadInt32();
            if (count < 0 || (long)count * Math.Max(1, minBytesPerElement) > _end - _pos)
                throw new ProtocolException($"A frame declares {count} elements but holds only {_end - _pos} bytes.");
            return count;
        }

        public byte[]? ReadBlob()
        {
            int count = ReadInt32();
            if (count == -1) return null;
            Need(count);
            var bytes = new byte[count];
            Buffer.BlockCopy(_data, _pos, bytes, 0, count);
            _pos += count;
            return bytes;
        }

        /// <summary>A blob as a view into the body, without copying; valid while the body buffer is.</summary>
        public ArraySegment<byte> ReadBlobSegment()
        {
            int count = ReadInt32();
            Need(count);
            var segment = new ArraySegment<byte>(_data, _pos, count);
            _pos += count;
            return segment;
        }

        public string? ReadString()
        {
            int count = ReadInt32();
            if (count == -1) return null;
            Need(count);
            string text = Encoding.UTF8.GetString(_data, _pos, count);
            _pos += count;
            return text;
        }
    }
}
