namespace ProcessPool.Engine
{
    /// <summary>One successful result as the reader hands it to its map in a batch.</summary>
    internal readonly struct CompletedItem
    {
        public CompletedItem(long sequence, OutputRecord[] records, long micros)
        {
            Sequence = sequence;
            Records = records;
            Micros = micros;
        }

        public long Sequence { get; }
        public OutputRecord[] Records { get; }
        public long Micros { get; }
    }
}
