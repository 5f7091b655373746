using System;

namespace ProcessPool.Engine.Protocol
{
    /// <summary>
    /// Parent → worker: map id, chunk id, flags (<see cref="ChunkFlags"/>), item count, then each item as a u32 length and
    /// its bytes. The parent writes the items straight from their arrays to the stream (no copy of the chunk is
    /// assembled); the worker reads them as views into the frame's body.
    /// </summary>
    internal readonly struct ChunkMessage
    {
        /// <summary>Map id, chunk id, flags and count: the body before its items.</summary>
        public const int HeaderBytes = 4 + 8 + 1 + 4;

        /// <summary>Bytes each item adds besides its own: its length.</summary>
        public const int ItemOverheadBytes = 4;

        public ChunkMessage(int mapId, long chunkId, byte flags, int count)
        {
            MapId = mapId;
            ChunkId = chunkId;
            Flags = flags;
            Count = count;
        }

        public int MapId { get; }
        public long ChunkId { get; }
        public byte Flags { get; }
        public int Count { get; }
        public bool Isolated => (Flags & ChunkFlags.Isolated) != 0;

        /// <summary>The body's length with these items.</summary>
        public static int BodyLength(byte[][] items)
        {
            int length = HeaderBytes;
            foreach (var item in items) length += ItemOverheadBytes + item.Length;
            return length;
        }

        /// <summary>Writes the whole frame; <paramref name="scratch"/> holds the header and each length on the way.</summary>
        public void WriteFrame(FrameWriter writer, ByteBuffer scratch, byte[][] items)
        {
            if (items.Length != Count) throw new ArgumentException("The chunk's count does not match its items.", nameof(items));
            writer.WriteHeader(FrameType.Chunk, BodyLength(items));
            scratch.Clear();
            scratch.WriteInt32(MapId);
            scratch.WriteInt64(ChunkId);
            scratch.WriteByte(Flags);
            scratch.WriteInt32(Count);
            writer.WriteBodyPart(scratch.RawData, 0, scratch.Length);
            foreach (var item in items)
            {
                scratch.Clear();
                scratch.WriteInt32(item.Length);
                writer.WriteBodyPart(scratch.RawData, 0, ItemOverheadBytes);
                writer.WriteBodyPart(item, 0, item.Length);
            }
        }

        /// <summary>Reads the header; the items follow (<see cref="ReadItems"/>).</summary>
        public static ChunkMessage ReadFrom(ref BodyReader body)
        {
            int mapId = body.ReadInt32();
            long chunkId = body.ReadInt64();
            byte flags = body.ReadByte();
            int count = body.ReadCount(ItemOverheadBytes);
            return new ChunkMessage(mapId, chunkId, flags, count);
        }

        /// <summary>The items, as views into the body (valid while the body buffer is).</summary>
        public ArraySegment<byte>[] ReadItems(ref BodyReader body)
        {
            var items = new ArraySegment<byte>[Count];
            for (int i = 0; i < Count; i++) items[i] = body.ReadBlobSegment();
            return items;
        }
    }
}
