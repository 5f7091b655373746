using System;
using System.Collections.Generic;

namespace ProcessPool.Engine
{
    /// <summary>Settings of a <see cref="WorkerPool"/>. Each default says why it is what it is.</summary>
    public sealed class PoolOptions
    {
        /// <summary>Creates options for workers started by <paramref name="launch"/>.</summary>
        public PoolOptions(WorkerLaunch launch) => Launch = launch ?? throw new ArgumentNullException(nameof(launch));

        /// <summary>Creates options for a pool made of <paramref name="groups"/> (local workers, remote hosts); its size is their sum.</summary>
        public PoolOptions(IEnumerable<WorkerGroup> groups)
        {
            Groups = new List<WorkerGroup>(groups ?? throw new ArgumentNullException(nameof(groups)));
            if (Groups.Count == 0) throw new ArgumentException("A pool needs at least one group of workers.", nameof(groups));
            Launch = Groups[0].Launch;
            int size = 0;
            foreach (var group in Groups) size += group.Size;
            Size = size;
        }

        /// <summary>The groups of workers given to the constructor, or empty when the pool is one group of <see cref="Size"/> workers started by <see cref="Launch"/>.</summary>
        public IReadOnlyList<WorkerGroup> Groups { get; } = Array.Empty<WorkerGroup>();

        /// <summary>How each worker is started (with <see cref="Groups"/>, the first group's launch).</summary>
        public WorkerLaunch Launch { get; }

        /// <summary>A name for messages and lookups.</summary>
        public string Name { get; set; } = "pool";

        /// <summary>Number of workers. Default: the processor count, since CPU-bound work gains nothing from more.</summary>
        public int Size { get; set; } = Environment.ProcessorCount;

        /// <summary>Start all workers when the pool is created (a warm pool) rather than on first use.</summary>
        public bool StartEagerly { get; set; } = true;

        /// <summary>Per payload kind, the opaque per-worker setup (modules, initializer) sent once to every worker.</summary>
        public IDictionary<string, byte[]> RunnerSetup { get; } = new Dictionary<string, byte[]>();

        /// <summary>Files the runner setup names by path (a method pool's assembly) that remote workers receive over their channel before their setup.</summary>
        public IList<ShippedFile> SetupFiles { get; } = new List<ShippedFile>();

        /// <summary>Items a worker runs before it is replaced by a fresh one (checked between chunks); null for no limit.</summary>
        public int? MaxTasksPerWorker { get; set; }

        /// <summary>Working-set ceiling of a worker, in bytes, checked between chunks; a worker over it is replaced. Null for no limit.</summary>
        public long? MaxWorkerMemoryBytes { get; set; }

        /// <summary>A worker idle this long exits; the pool starts workers again when work arrives. Null keeps idle workers.</summary>
        public TimeSpan? IdleTimeout { get; set; }

        /// <summary>Time a worker has to start, say hello and finish its setup. Default 60 s: PowerShell with modules to import can be slow on a busy machine.</summary>
        public TimeSpan StartTimeout { get; set; } = TimeSpan.FromSeconds(60);

        /// <summary>
        /// Time a worker has, once told to shut down (pool closed, worker retired for idle time, task count or memory),
        /// to run its finalizer and exit before it is killed and a <see cref="PoolEventKind.FinalizerFailed"/> event
        /// says so. Default 5 s: enough to flush and close files, short enough that removing a pool never seems to hang.
        /// </summary>
        public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(5);

        /// <summary>A worker that has sent nothing for this long sends a heartbeat with its memory use.</summary>
        public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(5);

        /// <summary>Largest frame accepted from a worker, in bytes: a corrupt length is refused before it allocates.</summary>
        public int MaxFrameBytes { get; set; } = Protocol.ProtocolConstants.DefaultMaxFrameBytes;

        internal void Validate()
        {
            if (Size < 1) throw new ArgumentOutOfRangeException(nameof(Size), Size, "A pool needs at least one worker.");
            if (Groups.Count > 0)
            {
                int sum = 0;
                foreach (var group in Groups) sum += group.Size;
                if (Size != sum) throw new ArgumentException($"Size ({Size}) must be the sum of the groups' sizes ({sum}).", nameof(Size));
            }
            if (MaxTasksPerWorker is int tasks && tasks < 1) throw new ArgumentOutOfRangeException(nameof(MaxTasksPerWorker));
            if (MaxWorkerMemoryBytes is long bytes && bytes < 1) throw new ArgumentOutOfRangeException(nameof(MaxWorkerMemoryBytes));
            if (ShutdownTimeout < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(ShutdownTimeout));
        }
    }
}
