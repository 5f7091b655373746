namespace ProcessPool.Engine
{
    /// <summary>One thing an item emitted, as the runner's codec encoded it; the engine never looks inside <see cref="Data"/>.</summary>
    public readonly struct OutputRecord
    {
        /// <summary>Creates a record.</summary>
        public OutputRecord(RecordKind kind, byte[] data)
        {
            Kind = kind;
            Data = data;
        }

        /// <summary>The stream this record belongs to.</summary>
        public RecordKind Kind { get; }

        /// <summary>The encoded value.</summary>
        public byte[] Data { get; }
    }
}
