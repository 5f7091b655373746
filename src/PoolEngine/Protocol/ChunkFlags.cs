namespace ProcessPool.Engine.Protocol
{
    /// <summary>Bits of a Chunk frame's flags byte.</summary>
    internal static class ChunkFlags
    {
        /// <summary>A suspect item re-run alone: the worker acknowledges the start and sends its result at once, so a death during it is attributed exactly.</summary>
        public const byte Isolated = 1;
    }
}
