namespace ProcessPool.Engine.Protocol
{
    /// <summary>Worker → parent, after a chunk's last result: its id, how long it ran, and the working set read after it (which both sides compare with the ceiling).</summary>
    internal readonly struct ChunkDoneMessage
    {
        public ChunkDoneMessage(long chunkId, long micros, long workingSet)
        {
            ChunkId = chunkId;
            Micros = micros;
            WorkingSet = workingSet;
        }

        public long ChunkId { get; }
        public long Micros { get; }
        public long WorkingSet { get; }

        public void WriteTo(ByteBuffer body)
        {
            body.WriteInt64(ChunkId);
            body.WriteInt64(Micros);
            body.WriteInt64(WorkingSet);
        }

        public static ChunkDoneMessage ReadFrom(ref BodyReader body) => new ChunkDoneMessage(body.ReadInt64(), body.ReadInt64(), body.ReadInt64());
    }
}
