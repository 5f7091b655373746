namespace ProcessPool.Engine.Protocol
{
    /// <summary>Worker → parent: it began this chunk (an isolated re-run, or its first chunk of a map): blame and the item timeout start from here.</summary>
    internal readonly struct ChunkStartedMessage
    {
        public ChunkStartedMessage(long chunkId) => ChunkId = chunkId;

        public long ChunkId { get; }

        public void WriteTo(ByteBuffer body) => body.WriteInt64(ChunkId);

        public static ChunkStartedMessage ReadFrom(ref BodyReader body) => new ChunkStartedMessage(body.ReadInt64());
    }
}
