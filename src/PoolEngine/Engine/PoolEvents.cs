using System;
using System.Collections.Generic;
using System.Linq;

namespace ProcessPool.Engine
{
    /// <summary>
    /// A pool's events: raised under the pool's lock into a list, delivered outside it one flush at a time, so a handler
    /// can never deadlock the scheduler and sees events in order. A subscriber that throws breaks the pool
    /// (<see cref="WorkerPool.Fault"/>) rather than failing silently or ending the host from an engine thread; the
    /// PoolBroken event it causes is delivered in the same flush.
    /// </summary>
    internal sealed class PoolEvents
    {
        private readonly WorkerPool _pool;
        private readonly List<PoolEvent> _pending = new List<PoolEvent>();
        /// <summary>One delivery at a time: Close or Dispose, which flush last, return only after every event raised before them was delivered.</summary>
        private readonly object _delivery = new object();

        public PoolEvents(WorkerPool pool) => _pool = pool;

        /// <summary>Queues an event; any thread, with or without the pool's lock.</summary>
        public void Raise(PoolEventKind kind, WorkerProcess? worker, string message)
        {
            lock (_pending) _pending.Add(new PoolEvent(kind, worker?.Id ?? 0, worker?.ProcessId ?? 0, message));
        }

        /// <summary>Delivers the queued events; never call it holding the pool's lock.</summary>
        public void Flush()
        {
            lock (_delivery)
            {
                while (true)
                {
                    List<PoolEvent> events;
                    lock (_pending)
                    {
                        if (_pending.Count == 0) return;
                        events = _pending.ToList();
                        _pending.Clear();
                    }
                    foreach (var e in events) Deliver(e);
                }
            }
        }

        /// <summary>Hands one event to the subscribers now, on the caller's thread (worker output, which is not queued).</summary>
        public void Deliver(PoolEvent e)
        {
            var handler = _pool.EventHandlers;
            if (handler == null) return;
            try { handler(_pool, e); }
            catch (Exception error) { _pool.Fault(error, $"a subscriber of {nameof(WorkerPool.EventRaised)} ({e.Kind})"); }
        }
    }
}
