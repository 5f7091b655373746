namespace ProcessPool.Engine
{
    /// <summary>One successful result as the reader hands it to its map in a batch.</summary>
    internal readonly struct CompletedItem
    {
        public CompletedItem(long sequence, long chunkId, OutputRecord[] records, long micros)
        {
            Sequence = sequence;
            ChunkId = chunkId;
            Records = records;
            Micros = micros;
        }

        public long Sequence { get; }
        /// <summary>The chunk of the attempt that produced it: tells the records of one run of the item from another's.</summary>
        public long ChunkId { get; }
        public OutputRecord[] Records { get; }
        public long Micros { get; }
    }
}
