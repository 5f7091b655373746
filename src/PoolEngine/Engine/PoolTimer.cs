using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;

namespace ProcessPool.Engine
{
    /// <summary>
    /// The pool's one one-shot timer: start timeouts, item timeouts, shutdown timeouts, idle retirement, run timeouts,
    /// restarts after a backoff, and partial chunks for idle workers. It ticks every <see cref="TickMilliseconds"/> while
    /// there is work; otherwise it is armed only for the earliest start, idle, shutdown or restart deadline, so an idle
    /// pool does not wake. Arming is guarded by the pool's lock; the tick takes it, and kills and stops maps outside it.
    /// </summary>
    internal sealed class PoolTimer : IDisposable
    {
        /// <summary>
        /// Period while there is work. Besides timeouts, the tick hands a partly filled chunk to an idle worker, so a
        /// producer that pauses still has its items running within this time, while a busy producer fills whole chunks.
        /// </summary>
        public const int TickMilliseconds = 20;

        private readonly WorkerPool _pool;
        private readonly Timer _timer;
        /// <summary>When the armed timer fires (long.MaxValue: disarmed); <c>_stopped</c> once the pool shut down.</summary>
        private long _dueTicks = long.MaxValue;
        private bool _stopped;

        public PoolTimer(WorkerPool pool)
        {
            _pool = pool;
            _timer = new Timer(_ => Tick(), null, Timeout.Infinite, Timeout.Infinite);
        }

        /// <summary>A test's way to make the timer thread fail, as a bug in it would.</summary>
        public Action? TickHook;

        /// <summary>True while armed. Under the pool's lock.</summary>
        public bool IsArmedLocked
        {
            get
            {
                Debug.Assert(Monitor.IsEntered(_pool.Gate));
                return _dueTicks != long.MaxValue;
            }
        }

        /// <summary>Arms the timer for the earliest moment something is due; disarmed when nothing is.</summary>
        public void RearmLocked()
        {
            Debug.Assert(Monitor.IsEntered(_pool.Gate));
            var options = _pool.Options;
            long now = Stopwatch.GetTimestamp();
            long due = long.MaxValue;
            var workers = _pool.Workers;
            bool busy = _pool.Maps.Count > 0 || _pool.Dispatcher.ReadyCountLocked > 0;
            foreach (var worker in workers) busy |= worker.InFlight.Count > 0;
            if (busy) due = now + TickMilliseconds * Stopwatch.Frequency / 1000;
            foreach (var worker in workers)
            {
                if (worker.State == WorkerState.Starting)
                    due = Math.Min(due, worker.StartedTicks + (long)(options.StartTimeout.TotalSeconds * Stopwatch.Frequency));
                else if (worker.State == WorkerState.Ready && worker.InFlight.Count == 0 && options.IdleTimeout is TimeSpan idle)
                    due = Math.Min(due, worker.LastActivityTicks + (long)(idle.TotalSeconds * Stopwatch.Frequency));
                else if (worker.State == WorkerState.Retiring && worker.ShutdownSentTicks != 0 && worker.Kill == KillReason.None)
                    due = Math.Min(due, worker.ShutdownSentTicks + (long)(options.ShutdownTimeout.TotalSeconds * Stopwatch.Frequency) + Stopwatch.Frequency / 1000);
            }
            due = Math.Min(due, _pool.Starts.RestartDueTicksLocked(now));
            ArmLocked(due);
        }

        /// <summary>Makes the timer fire by <paramref name="dueTicks"/>; an earlier arming stands (its tick re-arms).</summary>
        public void ArmLocked(long dueTicks)
        {
            Debug.Assert(Monitor.IsEntered(_pool.Gate));
            if (_stopped || dueTicks >= _dueTicks) return;
            _dueTicks = dueTicks;
            long ms = Math.Max(1, (dueTicks - Stopwatch.GetTimestamp()) * 1000 / Stopwatch.Frequency + 1);
            _timer.Change(Math.Min(ms, int.MaxValue - 1), Timeout.Infinite);
        }

        /// <summary>The pool shut down: the timer is never armed again.</summary>
        public void StopLocked()
        {
            Debug.Assert(Monitor.IsEntered(_pool.Gate));
            _stopped = true;
            _dueTicks = long.MaxValue;
        }

        public void Dispose() => _timer.Dispose();

        private void Tick()
        {
            try
            {
                TickCore();
            }
            catch (Exception error)
            {
                _pool.Fault(error, "the pool's timer");
            }
        }

        /// <summary>Each tick: start and item timeouts, idle workers, run timeouts, restarts, partial chunks for idle workers.</summary>
        private void TickCore()
        {
            var kills = new List<(WorkerProcess Worker, KillReason Reason, long Sequence)>();
            var expired = new List<MapRun>();
            var options = _pool.Options;
            long now = Stopwatch.GetTimestamp();
            lock (_pool.Gate)
            {
                _dueTicks = long.MaxValue; // this firing is spent; whatever is due re-arms below
                TickHook?.Invoke();
                foreach (var worker in _pool.Workers)
                {
                    if (worker.State == WorkerState.Starting && Seconds(now - worker.StartedTicks) > options.StartTimeout.TotalSeconds)
                    {
                        kills.Add((worker, KillReason.StartTimeout, -1));
                    }
                    else if (worker.State != WorkerState.Starting && worker.InFlight.Count > 0)
                    {
                        var chunk = worker.InFlight.Peek();
                        int index = chunk.NextIndex;
                        if (chunk.Map.Options.ItemTimeout is TimeSpan limit && index < chunk.Count && (!chunk.AwaitsStart || chunk.Started) &&
                            Seconds(now - worker.CurrentItemStartTicks) > limit.TotalSeconds)
                            kills.Add((worker, KillReason.ItemTimeout, chunk.Sequences[index]));
                    }
                    else if (worker.State == WorkerState.Retiring && worker.ShutdownSentTicks != 0 && worker.Kill == KillReason.None &&
                             Seconds(now - worker.ShutdownSentTicks) > options.ShutdownTimeout.TotalSeconds)
                    {
                        kills.Add((worker, KillReason.ShutdownTimeout, -1));
                    }
                    else if (worker.State == WorkerState.Ready && options.IdleTimeout is TimeSpan idle &&
                             Seconds(now - worker.LastActivityTicks) > idle.TotalSeconds)
                    {
                        _pool.RetireLocked(worker, $"idle for {idle.TotalSeconds:0.#} s");
                        worker.SendShutdown();
                    }
                }
                foreach (var map in _pool.Maps)
                    if (now > map.RunDeadlineTicks) expired.Add(map);
                _pool.Starts.EnsureWorkersLocked();
                if (_pool.Dispatcher.HasIdleWorker && _pool.Maps.Count > 0) _pool.Dispatcher.DispatchLocked(partial: true);
                RearmLocked();
            }
            // Reported when the worker is gone (WorkerStarts.OnStartFailedLocked, CrashBlame), with how it ended.
            foreach (var (worker, reason, sequence) in kills) worker.KillTree(reason, sequence);
            foreach (var map in expired)
            {
                var limit = map.Options.RunTimeout!.Value;
                map.Stop(new PoolTimeoutException($"The map ran longer than its {limit.TotalSeconds:0.###} s timeout and was stopped.", limit));
            }
            _pool.Events.Flush();
        }

        private static double Seconds(long ticks) => ticks / (double)Stopwatch.Frequency;
    }
}
