using System;
using System.Buffers.Binary;
using System.Text;

namespace ProcessPool.Engine.Protocol
{
    /// <summary>A growable little-endian byte writer used to build frame bodies without per-field allocations.</summary>
    internal sealed class ByteBuffer
    {
        private byte[] _data;
        private int _length;

        public ByteBuffer(int capacity = 256) => _data = new byte[Math.Max(16, capacity)];

        public int Length => _length;
        public byte[] RawData => _data;

        public void Clear() => _length = 0;

        /// <summary>Drops everything after the first <paramref name="length"/> bytes.</summary>
        public void Truncate(int length)
        {
            if (length < 0 || length > _length) throw new ArgumentOutOfRangeException(nameof(length));
            _length = length;
        }

        public ArraySegment<byte> AsSegment() => new ArraySegment<byte>(_data, 0, _length);

        public byte[] ToArray()
        {
            var copy = new byte[_length];
            Buffer.BlockCopy(_data, 0, copy, 0, _length);
            return copy;
        }

        private void Ensure(int extra)
        {
            int needed = _length + extra;
            if (needed <= _data.Length) return;
            int size = _data.Length * 2;
            while (size < needed) size *= 2;
            Array.Resize(ref _data, size);
        }

        /// <summary>Reserves <paramref name="count"/> bytes and returns their offset, for fields filled in later (lengths).</summary>
        public int Reserve(int count)
        {
            Ensure(count);
            int at = _length;
            _length += count;
            return at;
        }

        public void PatchInt32(int offset, int value) => BinaryPrimitives.WriteInt32LittleEndian(_data.AsSpan(offset, 4), value);

        public void PatchInt64(int offset, long value) => BinaryPrimitives.WriteInt64LittleEndian(_data.AsSpan(offset, 8), value);

        public void WriteByte(byte value)
        {
            Ensure(1);
            _data[_length++] = value;
        }

        public void WriteInt32(int value)
        {
            Ensure(4);
            PatchInt32(_length, value);
            _length += 4;
        }

        public void WriteInt64(long value)
        {
            Ensure(8);
            PatchInt64(_length, value);
            _length += 8;
        }

        public void WriteBytes(byte[] bytes, int offset, int count)
        {
            Ensure(count);
            Buffer.BlockCopy(bytes, offset, _data, _length, count);
            _length += count;
        }

        /// <summary>Length-prefixed bytes; a null array is written as length -1.</summary>
        public void WriteBlob(byte[]? bytes)
        {
            if (bytes == null) { WriteInt32(-1); return; }
            WriteInt32(bytes.Length);
            WriteBytes(bytes, 0, bytes.Length);
        }

        public void WriteBlob(ArraySegment<byte> bytes)
        {
            WriteInt32(bytes.Count);
            WriteBytes(bytes.Array!, bytes.Offset, bytes.Count);
        }

        /// <summary>Length-prefixed UTF-8; null is length -1.</summary>
        public void WriteString(string? text)
        {
            if (text == null) { WriteInt32(-1); return; }
            int max = Encoding.UTF8.GetMaxByteCount(text.Length);
            Ensure(4 + max);
            int count = Encoding.UTF8.GetBytes(text, 0, text.Length, _data, _length + 4);
            PatchInt32(_length, count);
            _length += 4 + count;
        }
    }
}
