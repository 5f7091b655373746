using System.Threading;

namespace ProcessPool.Engine
{
    /// <summary>
    /// A batch of one map's items on its way to a worker. Items keep their bytes until the chunk is done so that the
    /// unfinished part can be sent again if the worker dies. <see cref="NextIndex"/> is advanced only by the reader
    /// thread of the worker running the chunk.
    /// </summary>
    internal sealed class Chunk
    {
        private static long _nextId;

        public Chunk(MapRun map, long[] sequences, byte[][] items, bool isolated = false)
        {
            Map = map;
            Id = Interlocked.Increment(ref _nextId);
            Sequences = sequences;
            Items = items;
            Isolated = isolated;
        }

        public MapRun Map { get; }
        public long Id { get; }
        public long[] Sequences { get; }
        public byte[][] Items { get; }
        public int Count => Items.Length;

        /// <summary>A re-run of one item that killed a worker, sent alone so that a second crash proves it is the cause.</summary>
        public bool Isolated { get; }

        /// <summary>Set when the worker confirmed it began an isolated chunk: only then can a death be blamed on its item.</summary>
        public volatile bool Started;

        /// <summary>
        /// Set at dispatch when the worker acknowledges this chunk's start (ChunkStarted): an isolated chunk, or the
        /// first chunk of its map in that worker, which first loads and compiles the map's code. The item timeout of
        /// such a chunk runs from the acknowledgement, so a cold start on a busy machine is not charged to its first
        /// item. Under the pool's lock.
        /// </summary>
        public bool AwaitsStart;

        /// <summary>Index of the first item not yet reported done.</summary>
        public int NextIndex;
    }
}
