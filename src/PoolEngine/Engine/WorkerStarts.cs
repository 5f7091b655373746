using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;

namespace ProcessPool.Engine
{
    /// <summary>
    /// Keeps each group of workers at its size and decides what a failed start means. A worker killed from outside while
    /// starting is replaced after a backoff and not blamed; other start failures count, and <c>max(3, size)</c> in a
    /// row with no worker ready break the pool with their cause (a passing cause lets the next map try again). A remote
    /// host whose starts keep failing is left out while the others go on, and tried again for the next map. All state
    /// is guarded by the pool's lock.
    /// </summary>
    internal sealed class WorkerStarts
    {
        /// <summary>First restart delay after a worker is killed from outside while starting; doubled per repeat.</summary>
        private const int FirstRestartBackoffMilliseconds = 100;
        /// <summary>Longest restart delay: a pool under a kill storm still tries every 2 s, so it recovers soon after.</summary>
        private const int MaxRestartBackoffMilliseconds = 2000;

        private readonly WorkerPool _pool;
        private readonly HashSet<int> _everStarted = new HashSet<int>();
        /// <summary>Workers killed from outside while starting, to be replaced once <c>_restartAfterTicks</c> passes.</summary>
        private int _pendingRestarts;
        /// <summary>A local group was started one worker at a time (<see cref="EnsureWorkersLocked"/>): start the rest when one is ready.</summary>
        private bool _heldBack;
        private int _restartBackoffMs;
        private long _restartAfterTicks;
        private int _consecutiveFailures;
        private int _nextWorkerId;

        public WorkerStarts(WorkerPool pool) => _pool = pool;

        /// <summary>Workers launched so far. Under the pool's lock.</summary>
        public long Started { get; private set; }

        /// <summary>Workers waiting out their restart backoff. Under the pool's lock.</summary>
        public int PendingRestartsLocked
        {
            get
            {
                Debug.Assert(Monitor.IsEntered(_pool.Gate));
                return _pendingRestarts;
            }
        }

        /// <summary>When the timer must come back for pending restarts (long.MaxValue: none).</summary>
        public long RestartDueTicksLocked(long now)
        {
            Debug.Assert(Monitor.IsEntered(_pool.Gate));
            return _pendingRestarts > 0 ? Math.Max(now, _restartAfterTicks) : long.MaxValue;
        }

        /// <summary>Process ids of every worker this pool ever started. Under the pool's lock.</summary>
        public IReadOnlyList<int> EverStartedLocked()
        {
            Debug.Assert(Monitor.IsEntered(_pool.Gate));
            return _everStarted.ToList();
        }

        /// <summary>A worker is ready: the failure count and the restart backoff start over.</summary>
        public void OnReadyLocked(WorkerProcess worker)
        {
            Debug.Assert(Monitor.IsEntered(_pool.Gate));
            _consecutiveFailures = 0;
            _restartBackoffMs = 0;
            worker.Group.ConsecutiveStartFailures = 0;
            worker.Group.LastError = null;
            if (_heldBack)
            {
                _heldBack = false;
                EnsureWorkersLocked(force: true);
            }
        }

        /// <summary>A pool broken by a passing cause starts over.</summary>
        public void ResetLocked()
        {
            Debug.Assert(Monitor.IsEntered(_pool.Gate));
            _consecutiveFailures = 0;
            _restartBackoffMs = 0;
            _restartAfterTicks = 0;
        }

        /// <summary>
        /// Hosts left out of the pool are tried again for each new map, as a pool broken by a passing cause is: a host
        /// that was down for a reboot or a network outage rejoins without a new pool. One that still fails is left out
        /// again after <c>max(2, size)</c> failed starts, in the background, while the map runs on the other hosts.
        /// </summary>
        public void RetryHostsLocked()
        {
            Debug.Assert(Monitor.IsEntered(_pool.Gate));
            foreach (var group in _pool.Groups)
            {
                if (!group.Down) continue;
                group.Down = false;
                group.ConsecutiveStartFailures = 0;
                _pool.Events.Raise(PoolEventKind.HostRetried, null, $"Host {group.HostName} is tried again for a new map (it was left out: {group.LastError}).");
            }
        }

        /// <summary>
        /// Starts workers up to each group's size (a remote group given up excepted) when there is work (or <paramref name="force"/>), and replaces workers
        /// killed from outside while starting even without work, once their backoff has passed (the timer comes back
        /// for them then).
        /// </summary>
        public void EnsureWorkersLocked(bool force = false)
        {
            Debug.Assert(Monitor.IsEntered(_pool.Gate));
            if (!_pool.IsAcceptingWorkLocked) return;
            bool work = force || _pool.Maps.Count > 0 || _pool.Dispatcher.ReadyCountLocked > 0;
            if (!work && _pendingRestarts == 0) return;
            if (Stopwatch.GetTimestamp() < _restartAfterTicks)
            {
                _pool.Timer.ArmLocked(_restartAfterTicks);
                return;
            }
            // Each group is kept at its size when there is work; without work only the workers killed while starting
            // are replaced, in whichever groups are short of workers.
            int restarts = _pendingRestarts;
            _pendingRestarts = 0;
            var workers = _pool.Workers;
            foreach (var group in _pool.Groups)
            {
                if (group.Down) continue;
                int live = workers.Count(w => w.Group == group && (w.State == WorkerState.Starting || w.State == WorkerState.Ready));
                int target = work ? group.Size : Math.Min(group.Size, live + restarts);
                if (!work) restarts -= Math.Max(0, target - live);
                else if (StartsOneAtATimeLocked(group) && target > Math.Max(live, 1))
                {
                    target = Math.Max(live, 1);
                    _heldBack = true;
                }
                for (int i = live; i < target; i++)
                {
                    var worker = new WorkerProcess(_pool, _pool.Options, ++_nextWorkerId, group);
                    workers.Add(worker);
                    Started++;
                    ThreadPool.QueueUserWorkItem(_ => StartWorker(worker));
                }
            }
        }

        /// <summary>
        /// A local group with no worker ready starts one worker at a time when the machine has no more cores than the
        /// group has workers: starting runtimes compete for the cores (the caller's thread too), so on two cores two
        /// starts at once each take about twice as long and the first result waits for both. Once one is ready the
        /// rest start together. Remote groups start on their own hosts' cores and are not held back.
        /// </summary>
        private bool StartsOneAtATimeLocked(WorkerGroup group) =>
            !group.IsRemote && Environment.ProcessorCount <= group.Size &&
            !_pool.Workers.Any(w => w.Group == group && w.State == WorkerState.Ready);

        private void StartWorker(WorkerProcess worker)
        {
            try
            {
                try
                {
                    worker.Start();
                    lock (_pool.Gate)
                    {
                        _everStarted.Add(worker.ProcessId);
                        _pool.Events.Raise(PoolEventKind.WorkerStarting, worker, $"{worker.Describe()} launched: {worker.Group.Launch.FileName}.");
                        _pool.Timer.RearmLocked(); // its start timeout is due
                    }
                }
                catch (BrokenPoolException error)
                {
                    lock (_pool.Gate)
                    {
                        _pool.Workers.Remove(worker);
                        worker.State = WorkerState.Gone;
                        _consecutiveFailures++;
                        _pool.Events.Raise(PoolEventKind.WorkerStartFailed, worker, $"{worker.Describe()} failed to start: {error.Message}");
                        // A launch that fails outright (missing executable) will fail the same way every time.
                        if (_pool.StateLocked == PoolState.Running) _pool.BreakLocked(error, transient: false);
                        Monitor.PulseAll(_pool.Gate);
                    }
                }
                _pool.Events.Flush();
            }
            catch (Exception error)
            {
                _pool.Fault(error, $"starting {worker.Describe()}");
            }
        }

        /// <summary>A worker ended before it was ready: counted against its host (remote) or the pool (local), unless the pool stopped it or it was killed from outside.</summary>
        public void OnStartFailedLocked(WorkerProcess worker, Exception? failure, KillReason kill, int? exitCode, int? signal)
        {
            Debug.Assert(Monitor.IsEntered(_pool.Gate));
            var kind = StartFailure.Classify(kill, failure, exitCode, signal);
            string how = WorkerPool.DescribeExit(exitCode, signal);
            // A remote host's own failures (unreachable, authentication, no PowerShell, start timeout) count against
            // that host; a start the pool stopped, or a kill from outside, is handled as for a local worker.
            if (worker.Group.IsRemote && kind != StartFailureKind.ByPool && kind != StartFailureKind.Outside)
            {
                string why = kind == StartFailureKind.TimedOut
                    ? $"it did not finish starting within {_pool.Options.StartTimeout.TotalSeconds:0.###} s and was killed ({failure?.Message})"
                    : failure?.Message ?? $"it exited during start ({how})";
                _pool.Events.Raise(PoolEventKind.WorkerStartFailed, worker, $"{worker.Describe()} failed to start: {why}");
                OnRemoteStartFailedLocked(worker.Group, why, failure);
            }
            else OnLocalStartFailedLocked(worker, kind, failure, how);
        }

        /// <summary>
        /// Killed from outside: a replacement starts after a backoff, and the pool is not blamed. Otherwise the failure
        /// counts, and <c>max(3, size)</c> of them in a row with no worker ready break the pool with their cause; a
        /// transient cause lets the next map try again.
        /// </summary>
        private void OnLocalStartFailedLocked(WorkerProcess worker, StartFailureKind kind, Exception? failure, string how)
        {
            Debug.Assert(Monitor.IsEntered(_pool.Gate));
            switch (kind)
            {
                case StartFailureKind.ByPool:
                    _pool.Events.Raise(PoolEventKind.WorkerExited, worker, $"{worker.Describe()} was stopped while starting.");
                    return;
                case StartFailureKind.Outside:
                    _pendingRestarts++;
                    _restartBackoffMs = _restartBackoffMs == 0 ? FirstRestartBackoffMilliseconds : Math.Min(MaxRestartBackoffMilliseconds, _restartBackoffMs * 2);
                    _restartAfterTicks = Stopwatch.GetTimestamp() + _restartBackoffMs * Stopwatch.Frequency / 1000;
                    _pool.Events.Raise(PoolEventKind.WorkerStartFailed, worker, $"{worker.Describe()} was killed from outside while starting ({how}); a replacement starts in {_restartBackoffMs} ms.");
                    return;
            }
            _consecutiveFailures++;
            string why = kind == StartFailureKind.TimedOut
                ? $"it did not finish starting within {_pool.Options.StartTimeout.TotalSeconds:0.###} s and was killed ({failure?.Message})"
                : failure is ProtocolException { StreamEnded: true } || failure == null
                    ? $"{failure?.Message ?? "it exited during start."} It ended with {how}."
                    : failure.Message;
            _pool.Events.Raise(PoolEventKind.WorkerStartFailed, worker, $"{worker.Describe()} failed to start: {why}");
            if (_pool.StateLocked == PoolState.Running && _consecutiveFailures >= Math.Max(3, _pool.SizeLocked) && !_pool.Workers.Any(w => w.State == WorkerState.Ready))
                _pool.BreakLocked(failure is WorkerSetupFailure || (failure is ProtocolException p && !p.StreamEnded) ? failure : new PoolException(why, failure),
                    transient: kind != StartFailureKind.Setup);
        }

        /// <summary>
        /// A remote host whose workers fail to start, each slot at least once (two starts for a one-worker host), with none
        /// of its workers ready, is given up: its work runs on the other hosts. The pool breaks when no host is left.
        /// </summary>
        private void OnRemoteStartFailedLocked(WorkerGroup group, string why, Exception? failure)
        {
            Debug.Assert(Monitor.IsEntered(_pool.Gate));
            group.ConsecutiveStartFailures++;
            group.LastError = why;
            if (group.Down || _pool.StateLocked != PoolState.Running) return;
            if (group.ConsecutiveStartFailures < Math.Max(2, group.Size) || _pool.Workers.Any(w => w.Group == group && w.State == WorkerState.Ready)) return;
            group.Down = true;
            _pool.Events.Raise(PoolEventKind.HostFailed, null, $"Host {group.HostName} is left out of the pool '{_pool.Name}': {why}");
            if (_pool.Groups.All(g => g.Down))
                _pool.BreakLocked(new BrokenPoolException($"The pool '{_pool.Name}' has no host left: {string.Join("; ", _pool.Groups.Select(g => g.HostName + ": " + g.LastError))}", failure),
                    transient: true); // the next map tries every host again (RetryHostsLocked)
        }
    }
}
