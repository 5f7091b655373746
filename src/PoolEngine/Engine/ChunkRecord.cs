using System;

namespace ProcessPool.Engine
{
    /// <summary>One finished chunk, for job logs and tuning: which worker ran how many items in how long.</summary>
    public sealed class ChunkRecord
    {
        internal ChunkRecord(long chunkId, int workerId, int processId, int itemCount, TimeSpan duration)
        {
            ChunkId = chunkId;
            WorkerId = workerId;
            ProcessId = processId;
            ItemCount = itemCount;
            Duration = duration;
        }

        /// <summary>Pool-wide chunk id.</summary>
        public long ChunkId { get; }

        /// <summary>Worker that ran it.</summary>
        public int WorkerId { get; }

        /// <summary>That worker's process id.</summary>
        public int ProcessId { get; }

        /// <summary>Items in the chunk.</summary>
        public int ItemCount { get; }

        /// <summary>Time the worker spent on it.</summary>
        public TimeSpan Duration { get; }
    }
}
