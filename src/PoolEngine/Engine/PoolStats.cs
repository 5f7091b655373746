namespace ProcessPool.Engine
{
    /// <summary>The state of a pool's workers and its lifetime counters.</summary>
    public sealed class PoolStats
    {
        internal PoolStats(PoolState state, int size, int starting, int busy, int idle, long itemsCompleted, long workersStarted, long workersLost, long workersRecycled, int activeMaps)
        {
            State = state;
            Size = size;
            Starting = starting;
            Busy = busy;
            Idle = idle;
            ItemsCompleted = itemsCompleted;
            WorkersStarted = workersStarted;
            WorkersLost = workersLost;
            WorkersRecycled = workersRecycled;
            ActiveMaps = activeMaps;
        }

        /// <summary>Lifecycle state.</summary>
        public PoolState State { get; }
        /// <summary>Configured number of workers.</summary>
        public int Size { get; }
        /// <summary>Workers launched but not yet ready.</summary>
        public int Starting { get; }
        /// <summary>Ready workers with work.</summary>
        public int Busy { get; }
        /// <summary>Ready workers without work.</summary>
        public int Idle { get; }
        /// <summary>Items completed over the pool's life.</summary>
        public long ItemsCompleted { get; }
        /// <summary>Worker processes launched over the pool's life.</summary>
        public long WorkersStarted { get; }
        /// <summary>Workers that died or were killed.</summary>
        public long WorkersLost { get; }
        /// <summary>Workers retired by task count, memory or idle time.</summary>
        public long WorkersRecycled { get; }
        /// <summary>Maps running now.</summary>
        public int ActiveMaps { get; }
    }

    /// <summary>Lifecycle of a pool.</summary>
    public enum PoolState
    {
        /// <summary>Accepting work.</summary>
        Running,
        /// <summary>Finishing queued work; no new maps.</summary>
        Closing,
        /// <summary>All workers have exited after a close.</summary>
        Closed,
        /// <summary>Workers were killed; no new maps.</summary>
        Terminated,
        /// <summary>Workers cannot be started; see the last failure.</summary>
        Broken,
    }
}
