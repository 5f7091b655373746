using System;
using System.Collections.Generic;
using System.Linq;
using ProcessPool.Engine;

namespace ProcessPool.Commands
{
    /// <summary>
    /// A process pool as PowerShell sees it: what <c>New-ProcessPool</c> and <c>Get-ProcessPool</c> return and
    /// <c>-Pool</c> takes. The counters are read live from the engine each time they are shown.
    /// </summary>
    public sealed class ProcessPoolHandle
    {
        private readonly WorkerPool? _pool;

        internal ProcessPoolHandle(WorkerPool pool, bool isDefault)
        {
            _pool = pool;
            PoolWarnings.Attach(pool);
            IsDefault = isDefault;
            Name = pool.Name;
            Created = DateTime.Now;
        }

        /// <summary>A name given to <c>-Pool</c> that matches no pool; the command that receives it reports PoolNotFound.</summary>
        private ProcessPoolHandle(string unresolvedName) => Name = unresolvedName;

        internal static ProcessPoolHandle Unresolved(string name) => new ProcessPoolHandle(name);

        internal bool IsResolved => _pool != null;

        internal WorkerPool Pool => _pool ?? throw new InvalidOperationException($"No process pool named '{Name}' exists.");

        /// <summary>The pool's name (the default pool is called Default).</summary>
        public string Name { get; }

        /// <summary>True for the session's default pool, the one <c>Invoke-PoolMap</c> uses without <c>-Pool</c>.</summary>
        public bool IsDefault { get; }

        /// <summary>When the pool was created.</summary>
        public DateTime Created { get; }

        /// <summary>Running, Closing, Closed, Terminated or Broken.</summary>
        public PoolState State => Stats.State;

        /// <summary>Number of workers the pool keeps.</summary>
        public int Size => Pool.Size;

        /// <summary>Workers running items now.</summary>
        public int Busy => Stats.Busy;

        /// <summary>Workers ready and waiting for work.</summary>
        public int Idle => Stats.Idle;

        /// <summary>Workers still starting.</summary>
        public int Starting => Stats.Starting;

        /// <summary>Items completed over the pool's life.</summary>
        public long TasksCompleted => Stats.ItemsCompleted;

        /// <summary>Worker processes started over the pool's life (replacements included).</summary>
        public long WorkersStarted => Stats.WorkersStarted;

        /// <summary>Workers that died or were killed.</summary>
        public long WorkersLost => Stats.WorkersLost;

        /// <summary>Workers retired by task count, memory ceiling or idle time.</summary>
        public long WorkersRecycled => Stats.WorkersRecycled;

        /// <summary>Maps running on the pool now.</summary>
        public int ActiveMaps => Stats.ActiveMaps;

        /// <summary>Process ids of the workers alive now.</summary>
        public IReadOnlyList<int> WorkerProcessIds => Pool.GetWorkerProcessIds();

        /// <summary>Items a worker runs before it is replaced, or null for no limit.</summary>
        public int? MaxTasksPerWorker => Pool.Options.MaxTasksPerWorker;

        /// <summary>A worker's working-set ceiling in MB, or null for none.</summary>
        public long? MaxWorkerMemoryMB => Pool.Options.MaxWorkerMemoryBytes / (1024 * 1024);

        /// <summary>Seconds an idle worker waits before it exits, or null to keep idle workers.</summary>
        public double? IdleTimeoutSeconds => Pool.Options.IdleTimeout?.TotalSeconds;

        /// <summary>Seconds a worker has to run its finalizer and exit when it is retired or the pool is removed.</summary>
        public double ShutdownTimeoutSeconds => Pool.Options.ShutdownTimeout.TotalSeconds;

        /// <summary>Per host (local workers are <c>localhost</c>): workers, busy, idle, items done, workers lost, state and the last start failure.</summary>
        public IReadOnlyList<HostStats> Hosts => Pool.GetHostStats();

        /// <summary>The executable each worker runs (ssh for a pool of remote hosts only).</summary>
        public string WorkerExecutable => Pool.Options.Launch.FileName;

        /// <summary>Process ids of every worker the pool ever started (for leak checks).</summary>
        public IReadOnlyList<int> GetAllStartedProcessIds() => Pool.GetAllStartedProcessIds().OrderBy(id => id).ToList();

        private PoolStats Stats => Pool.GetStats();

        /// <inheritdoc />
        public override string ToString() => Name;
    }
}
