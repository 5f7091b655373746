using System;
using System.Collections.Concurrent;
using System.Threading;
using ProcessPool.Engine;

namespace ProcessPool.Commands.Mapping
{
    /// <summary>
    /// Pool events, raised on engine threads, held in a small bounded queue until the one thread allowed to write to
    /// PowerShell (or to a job's streams) turns them into verbose lines. Events beyond the bound are counted, not
    /// queued, so a storm of them cannot grow memory.
    /// </summary>
    internal sealed class PoolEventRelay : IDisposable
    {
        private const int MaxQueued = 256;

        private readonly WorkerPool _pool;
        private readonly ConcurrentQueue<PoolEvent> _events = new ConcurrentQueue<PoolEvent>();
        private int _dropped;

        public PoolEventRelay(WorkerPool pool)
        {
            _pool = pool;
            _pool.EventRaised += OnEvent;
        }

        /// <summary>Writes the waiting events as verbose lines, showing each to <paramref name="inspect"/> first, then the pool's waiting warnings (<see cref="PoolWarnings"/>) when <paramref name="writeWarning"/> is given.</summary>
        public void Drain(Action<string> writeVerbose, Action<PoolEvent>? inspect = null, Action<string>? writeWarning = null)
        {
            while (_events.TryDequeue(out var e))
            {
                inspect?.Invoke(e);
                writeVerbose($"ProcessPool '{_pool.Name}': {e.Message}");
            }
            int dropped = Interlocked.Exchange(ref _dropped, 0);
            if (dropped > 0) writeVerbose($"ProcessPool '{_pool.Name}': {dropped} more pool events were not shown.");
            if (writeWarning != null) PoolWarnings.Drain(_pool, writeWarning);
        }

        /// <summary>Stops listening to the pool.</summary>
        public void Dispose() => _pool.EventRaised -= OnEvent;

        private void OnEvent(object? sender, PoolEvent e)
        {
            if (_events.Count < MaxQueued) _events.Enqueue(e);
            else Interlocked.Increment(ref _dropped);
        }
    }
}
