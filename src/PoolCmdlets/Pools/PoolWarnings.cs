using System;
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Threading;
using ProcessPool.Engine;

namespace ProcessPool.Commands
{
    /// <summary>
    /// A pool's warnings that no command may be running to show when they happen: a finalizer that failed or ran
    /// past the shutdown timeout when a worker was retired (idle time, task limit) or the pool was removed. Each is
    /// held, in a small bounded queue, until the next command that uses the pool (Invoke-PoolMap, its job,
    /// Get-ProcessPool, Remove-ProcessPool) writes it with <c>WriteWarning</c>, so <c>-WarningAction</c> and
    /// <c>-WarningVariable</c> apply; each is shown once. Filled on engine threads, drained on a pipeline thread.
    /// </summary>
    internal sealed class PoolWarnings
    {
        private const int MaxQueued = 64;

        private static readonly ConditionalWeakTable<WorkerPool, PoolWarnings> Pools = new ConditionalWeakTable<WorkerPool, PoolWarnings>();

        private readonly string _poolName;
        private readonly ConcurrentQueue<string> _warnings = new ConcurrentQueue<string>();
        private int _dropped;

        private PoolWarnings(WorkerPool pool)
        {
            _poolName = pool.Name;
            pool.EventRaised += OnEvent;
        }

        /// <summary>Starts collecting the pool's warnings; called once, when the module first sees the pool.</summary>
        public static void Attach(WorkerPool pool) => Pools.GetValue(pool, p => new PoolWarnings(p));

        /// <summary>Writes the pool's waiting warnings, oldest first.</summary>
        public static void Drain(WorkerPool pool, Action<string> writeWarning)
        {
            if (!Pools.TryGetValue(pool, out var warnings)) return;
            while (warnings._warnings.TryDequeue(out var message)) writeWarning(message);
            int dropped = Interlocked.Exchange(ref warnings._dropped, 0);
            if (dropped > 0) writeWarning($"ProcessPool '{warnings._poolName}': {dropped} more finalizer failures were not shown.");
        }

        private void OnEvent(object? sender, PoolEvent e)
        {
            if (e.Kind != PoolEventKind.FinalizerFailed) return;
            if (_warnings.Count < MaxQueued) _warnings.Enqueue($"ProcessPool '{_poolName}': {e.Message}");
            else Interlocked.Increment(ref _dropped);
        }
    }
}
