using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using ProcessPool.Engine.Protocol;

namespace ProcessPool.Engine
{
    /// <summary>
    /// A pool of reused worker processes that run maps.
    /// <code>
    /// producer ─Submit─► MapRun (bounded slots, open items) ─cut when a worker has room─► ready queue ─Dispatch─► worker outbox ─writer─► stdin
    /// consumer ◄─TryTake─ MapRun (reorder) ◄─ItemsDone─ reader thread ◄─ frames on stdout ◄─ worker loop ◄────────┘
    /// </code>
    /// Scheduling state (workers, queues, maps) is guarded by <c>_gate</c>; a map's own lock may be taken inside it,
    /// never the reverse. A worker that dies hands its unfinished chunks back: the item it was running is re-run alone
    /// (and reported as poison if it kills a worker again); the rest are re-queued ahead of new work.
    /// Workers killed from outside while starting are restarted with backoff; only a cause in the setup (or workers
    /// that keep failing to start on their own) breaks the pool. No exception escapes a thread the engine owns
    /// (timer, reader, writer, stderr reader, event delivery): it breaks the pool through <see cref="Fault"/>.
    /// The timer runs only while something is due (work, a start, a restart, an idle timeout), so an idle pool sleeps.
    /// </summary>
    public sealed class WorkerPool : IDisposable
    {
        private readonly PoolOptions _options;
        private readonly IReadOnlyList<WorkerGroup> _groups;
        private readonly object _gate = new object();
        private readonly List<WorkerProcess> _workers = new List<WorkerProcess>();
        private readonly LinkedList<Chunk> _ready = new LinkedList<Chunk>();
        private readonly List<MapRun> _maps = new List<MapRun>();
        private readonly List<PoolEvent> _pendingEvents = new List<PoolEvent>();
        private readonly object _delivery = new object();
        private readonly HashSet<int> _everStarted = new HashSet<int>();
        private readonly Timer _timer;
        /// <summary>When the armed timer fires (long.MaxValue: disarmed); <c>_timerStopped</c> once it is disposed.</summary>
        private long _timerDueTicks = long.MaxValue;
        private bool _timerStopped;
        private PoolState _state = PoolState.Running;
        private Exception? _brokenBy;
        /// <summary>The pool broke because workers kept failing to start for a cause that may pass (start timeouts,
        /// exits before hello): the next map tries again instead of failing at once.</summary>
        private bool _brokenTransient;
        /// <summary>A worker was retired while the workers were being iterated: replace it once the loop is done.</summary>
        private bool _replaceRetired;
        /// <summary>Workers killed from outside while starting, to be replaced once <c>_restartAfterTicks</c> passes.</summary>
        private int _pendingRestarts;
        private int _restartBackoffMs;
        private long _restartAfterTicks;
        private int _nextWorkerId, _nextMapId, _nextMapToCut;
        private int _consecutiveStartFailures;
        private long _itemsCompleted, _workersStarted, _workersLost, _workersRecycled;
        private volatile bool _hasIdleWorker;

        /// <summary>Creates the pool and, unless <see cref="PoolOptions.StartEagerly"/> is false, starts its workers in parallel.</summary>
        public WorkerPool(PoolOptions options)
        {
            options.Validate();
            _options = options;
            _groups = options.Groups.Count > 0 ? options.Groups : new[] { new WorkerGroup(options.Launch, options.Size) };
            _timer = new Timer(_ => Tick(), null, Timeout.Infinite, Timeout.Infinite);
            if (options.StartEagerly)
            {
                lock (_gate)
                {
                    EnsureWorkersLocked(force: true);
                    RearmTimerLocked();
                }
            }
        }

        /// <summary>The pool's lock: guards workers, the ready queue, maps, and each worker's scheduling fields.</summary>
        internal object Gate => _gate;

        /// <summary>Raised on an engine thread for every worker event; handlers must be quick and must not block.</summary>
        public event EventHandler<PoolEvent>? EventRaised;

        /// <summary>The pool's name.</summary>
        public string Name => _options.Name;

        /// <summary>The configured number of workers.</summary>
        public int Size => _options.Size;

        /// <summary>The pool's settings.</summary>
        public PoolOptions Options => _options;

        /// <summary>Lifecycle state.</summary>
        public PoolState State { get { lock (_gate) return _state; } }

        /// <summary>Process ids of the workers alive now.</summary>
        public IReadOnlyList<int> GetWorkerProcessIds()
        {
            lock (_gate) return _workers.Where(w => w.ProcessId > 0).Select(w => w.ProcessId).ToList();
        }

        /// <summary>Process ids of the workers that finished starting (for fault injection that must not hit a start).</summary>
        internal IReadOnlyList<int> GetReadyWorkerProcessIds()
        {
            lock (_gate) return _workers.Where(w => w.State == WorkerState.Ready).Select(w => w.ProcessId).ToList();
        }

        /// <summary>Process ids of the workers still starting (launched, not yet ready), for fault injection.</summary>
        internal IReadOnlyList<int> GetStartingWorkerProcessIds()
        {
            lock (_gate) return _workers.Where(w => w.State == WorkerState.Starting && w.ProcessId > 0).Select(w => w.ProcessId).ToList();
        }

        /// <summary>Process ids of the workers running an isolated re-run that they confirmed they began.</summary>
        internal IReadOnlyList<int> GetProcessIdsRunningIsolated()
        {
            lock (_gate)
                return _workers.Where(w => w.State != WorkerState.Starting && w.InFlight.Count > 0 && w.InFlight.Peek().Isolated && w.InFlight.Peek().Started)
                    .Select(w => w.ProcessId).ToList();
        }

        /// <summary>True while the timer is armed; an idle pool has it disarmed (or armed only for an idle timeout).</summary>
        internal bool IsTimerArmed
        {
            get { lock (_gate) return _timerDueTicks != long.MaxValue; }
        }

        /// <summary>Process ids of every worker this pool ever started, for leak checks.</summary>
        public IReadOnlyList<int> GetAllStartedProcessIds()
        {
            lock (_gate) return _everStarted.ToList();
        }

        /// <summary>Counters and worker states now.</summary>
        public PoolStats GetStats()
        {
            lock (_gate)
            {
                int live = _workers.Count(w => w.State == WorkerState.Starting || w.State == WorkerState.Ready);
                // A worker killed while starting and waiting out its backoff is still starting, as far as callers go.
                int starting = _workers.Count(w => w.State == WorkerState.Starting) + Math.Max(0, Math.Min(_pendingRestarts, _options.Size - live));
                int busy = _workers.Count(w => w.State != WorkerState.Starting && w.InFlight.Count > 0);
                int idle = _workers.Count(w => w.State == WorkerState.Ready && w.InFlight.Count == 0);
                return new PoolStats(_state, _options.Size, starting, busy, idle, _itemsCompleted, _workersStarted, _workersLost, _workersRecycled, _maps.Count);
            }
        }

        /// <summary>Per host (local workers are <c>localhost</c>): workers, items done, losses and whether the pool still uses it.</summary>
        public IReadOnlyList<HostStats> GetHostStats()
        {
            lock (_gate) return _groups.Select(HostStatsLocked).ToList();
        }

        private HostStats HostStatsLocked(WorkerGroup group)
        {
            var workers = _workers.Where(w => w.Group == group).ToList();
            int starting = workers.Count(w => w.State == WorkerState.Starting);
            int busy = workers.Count(w => w.State != WorkerState.Starting && w.InFlight.Count > 0);
            int idle = workers.Count(w => w.State == WorkerState.Ready && w.InFlight.Count == 0);
            string state = group.Down ? "Failed" : workers.Any(w => w.State == WorkerState.Ready) ? "Up" : starting > 0 ? "Starting" : "Idle";
            return new HostStats(group.HostName, group.Size, starting, busy, idle, group.ItemsCompleted, group.WorkersLost, state, group.LastError);
        }

        /// <summary>Blocks until <paramref name="count"/> workers are ready (default: all); false on timeout. Throws when the pool is broken.</summary>
        public bool WaitForWorkers(TimeSpan timeout, int? count = null)
        {
            int wanted = count ?? _options.Size;
            var deadline = Stopwatch.StartNew();
            lock (_gate)
            {
                while (true)
                {
                    if (_state == PoolState.Broken) throw Broken();
                    if (_workers.Count(w => w.State == WorkerState.Ready) >= wanted) return true;
                    var left = timeout - deadline.Elapsed;
                    if (left <= TimeSpan.Zero) return false;
                    Monitor.Wait(_gate, left);
                }
            }
        }

        /// <summary>
        /// Largest frame this pool sends a worker: <see cref="PoolOptions.MaxFrameBytes"/>, never more than a worker
        /// accepts. Anything bigger is refused in the parent before it is sent: a worker would reject the frame and exit.
        /// </summary>
        internal int MaxOutboundFrameBytes => Math.Min(_options.MaxFrameBytes, Protocol.ProtocolConstants.DefaultMaxFrameBytes);

        /// <summary>Largest encoded item a map on this pool accepts (a chunk frame holding that item alone); a bigger one is refused by Submit.</summary>
        public int MaxItemBytes => MaxOutboundFrameBytes - Chunk.HeaderBytes - 4;

        /// <summary>Starts a map; submit items to the returned handle and take results from it.</summary>
        /// <exception cref="MapDefinitionException">The map's definition does not fit in a frame to a worker.</exception>
        public MapRun StartMap(MapOptions options)
        {
            options.Validate();
            long defineBytes = 4 + 4 + (long)System.Text.Encoding.UTF8.GetByteCount(options.PayloadKind) + 4 + options.PayloadDefinition.Length;
            if (defineBytes > MaxOutboundFrameBytes)
                throw new MapDefinitionException(
                    $"The map's definition is {defineBytes} bytes once serialized; a message to a worker holds at most {MaxOutboundFrameBytes} bytes. " +
                    "Pass large data as input items or read it from a file in the worker.");
            MapRun map;
            lock (_gate)
            {
                if (_state == PoolState.Broken && _brokenTransient) RecoverLocked();
                ThrowIfNotRunningLocked();
                map = new MapRun(this, ++_nextMapId, options, _options.Size, _options.MaxTasksPerWorker);
                _maps.Add(map);
                EnsureWorkersLocked();
                RearmTimerLocked();
            }
            FlushEvents();
            return map;
        }

        /// <summary>A pool broken by a cause that may pass gets a fresh start: counters cleared, workers started again.</summary>
        private void RecoverLocked()
        {
            Debug.Assert(Monitor.IsEntered(_gate));
            Raise(PoolEventKind.PoolRecovered, null, $"The pool '{Name}' tries again to start workers (it broke because: {_brokenBy?.Message}).");
            _state = PoolState.Running;
            _brokenBy = null;
            _brokenTransient = false;
            _consecutiveStartFailures = 0;
            _restartBackoffMs = 0;
            _restartAfterTicks = 0;
        }

        /// <summary>Starts a map over <paramref name="items"/>, fed lazily by a background thread; the handle works as a job.</summary>
        public MapRun StartMap(MapOptions options, IEnumerable<byte[]> items)
        {
            var map = StartMap(options);
            var feeder = new Thread(() =>
            {
                try
                {
                    var batch = new List<byte[]>(256);
                    foreach (var item in items)
                    {
                        batch.Add(item);
                        if (batch.Count == 256)
                        {
                            map.SubmitBatch(batch);
                            batch.Clear();
                        }
                    }
                    map.SubmitBatch(batch);
                    map.CompleteInput();
                }
                catch (Exception error) when (map.IsStopped)
                {
                    GC.KeepAlive(error); // the map stopped (cancelled, failed): its fault says why
                }
                catch (Exception error)
                {
                    map.Stop(new PoolException($"Reading the input failed: {error.Message}", error));
                }
            }) { IsBackground = true, Name = $"ProcessPool feeder {map.Id}" };
            feeder.Start();
            return map;
        }

        /// <summary>Runs a map over <paramref name="items"/> and yields its results (ordered unless the options say otherwise).</summary>
        public IEnumerable<ItemResult> Map(IEnumerable<byte[]> items, MapOptions options, CancellationToken cancellationToken = default)
        {
            using var map = StartMap(options, items);
            foreach (var result in map.GetResults(cancellationToken)) yield return result;
        }

        /// <summary>Finishes running maps, then shuts the workers down (running finalizers); kills what is left after <paramref name="timeout"/>.</summary>
        public void Close(TimeSpan timeout)
        {
            var clock = Stopwatch.StartNew();
            lock (_gate)
            {
                if (_state == PoolState.Running) _state = PoolState.Closing;
                while (_maps.Count > 0 && clock.Elapsed < timeout) Monitor.Wait(_gate, timeout - clock.Elapsed);
            }
            // Finalizers get the shutdown timeout, however long the maps were given: a hanging one never holds up the close.
            var left = timeout - clock.Elapsed;
            ShutDown(left < _options.ShutdownTimeout ? left : _options.ShutdownTimeout, PoolState.Closed);
        }

        /// <summary>Kills every worker now (process trees included); running maps fail with <see cref="PoolClosedException"/>.</summary>
        public void Terminate()
        {
            List<MapRun> maps;
            lock (_gate)
            {
                if (_state == PoolState.Running || _state == PoolState.Closing || _state == PoolState.Broken) _state = PoolState.Terminated;
                maps = _maps.ToList();
            }
            foreach (var map in maps) map.Stop(new PoolClosedException($"The pool '{Name}' was terminated."));
            ShutDown(TimeSpan.Zero, PoolState.Terminated);
        }

        /// <summary>Stops running maps and shuts the workers down, giving them <see cref="PoolOptions.ShutdownTimeout"/> to exit before they are killed.</summary>
        public void Dispose()
        {
            List<MapRun> maps;
            lock (_gate)
            {
                if (_state == PoolState.Running || _state == PoolState.Closing) _state = PoolState.Closing;
                maps = _maps.ToList();
            }
            foreach (var map in maps) map.Stop(new PoolClosedException($"The pool '{Name}' was disposed."));
            ShutDown(_options.ShutdownTimeout, PoolState.Closed);
        }

        private void ShutDown(TimeSpan grace, PoolState final)
        {
            List<WorkerProcess> workers;
            lock (_gate)
            {
                workers = _workers.ToList();
                foreach (var worker in workers)
                {
                    if (worker.State == WorkerState.Starting) worker.KillTree(KillReason.Terminated); // no work, no finalizer yet
                    else if (worker.State == WorkerState.Ready && grace > TimeSpan.Zero)
                    {
                        worker.State = WorkerState.Retiring;
                        worker.RetireReason = "pool shut down";
                        worker.SendShutdown();
                    }
                }
            }
            var clock = Stopwatch.StartNew();
            lock (_gate)
                while (_workers.Count > 0 && clock.Elapsed < grace) Monitor.Wait(_gate, grace - clock.Elapsed);
            lock (_gate) workers = _workers.ToList();
            foreach (var worker in workers) worker.KillTree(worker.ShutdownSentTicks != 0 && grace > TimeSpan.Zero ? KillReason.ShutdownTimeout : KillReason.Terminated);
            lock (_gate)
            {
                while (_workers.Count > 0 && clock.Elapsed < grace + TimeSpan.FromSeconds(10)) Monitor.Wait(_gate, TimeSpan.FromMilliseconds(100));
                if (_state != PoolState.Terminated || final == PoolState.Terminated) _state = final;
                _ready.Clear();
                _timerStopped = true;
                _timerDueTicks = long.MaxValue;
            }
            _timer.Dispose();
            FlushEvents();
        }

        // ---- called by maps ----------------------------------------------------------------------

        /// <summary>A map has a full chunk's worth of open items, or its input ended: a worker with room takes a chunk now.</summary>
        internal void OnWorkOpened()
        {
            lock (_gate)
            {
                if (_state != PoolState.Running && _state != PoolState.Closing) return;
                EnsureWorkersLocked();
                DispatchLocked();
            }
            FlushEvents();
        }

        /// <summary>Puts chunks back ahead of new work: they are older, and ordered output waits on them.</summary>
        internal void Requeue(IEnumerable<Chunk> chunks)
        {
            lock (_gate)
            {
                foreach (var chunk in chunks.Reverse()) _ready.AddFirst(chunk);
                EnsureWorkersLocked();
                DispatchLocked();
            }
            FlushEvents();
        }

        internal void OnMapStopped(MapRun map)
        {
            var kill = new List<WorkerProcess>();
            lock (_gate)
            {
                _maps.Remove(map);
                for (var node = _ready.First; node != null;)
                {
                    var next = node.Next;
                    if (node.Value.Map == map) _ready.Remove(node);
                    node = next;
                }
                // A worker busy with this map's items is stopped now; work of other maps queued behind it is re-run elsewhere.
                foreach (var worker in _workers)
                    if (worker.InFlight.Count > 0 && worker.InFlight.Peek().Map == map) kill.Add(worker);
                    else
                    {
                        worker.SentMaps.Remove(map.Id);
                        worker.SendRelease(map.Id);
                    }
                Monitor.PulseAll(_gate);
            }
            foreach (var worker in kill) worker.KillTree(KillReason.Cancelled);
        }

        internal void OnMapCompleted(MapRun map)
        {
            lock (_gate)
            {
                _maps.Remove(map);
                foreach (var worker in _workers)
                {
                    worker.WarmMaps.Remove(map.Id);
                    worker.SentMaps.Remove(map.Id);
                    worker.SendRelease(map.Id);
                }
                Monitor.PulseAll(_gate);
            }
        }

        // ---- called by worker threads ------------------------------------------------------------

        internal void OnHello(WorkerProcess worker, HelloMessage hello)
        {
            worker.RemoteProcessId = hello.ProcessId;
            worker.SendSetup(new SetupMessage(worker.Id, (int)_options.HeartbeatInterval.TotalMilliseconds, new Dictionary<string, byte[]>(_options.RunnerSetup),
                _options.MaxWorkerMemoryBytes ?? 0));
        }

        internal void OnReady(WorkerProcess worker)
        {
            lock (_gate)
            {
                if (worker.State != WorkerState.Starting) return;
                worker.State = WorkerState.Ready;
                worker.LastActivityTicks = Stopwatch.GetTimestamp();
                _consecutiveStartFailures = 0;
                _restartBackoffMs = 0;
                worker.Group.ConsecutiveStartFailures = 0;
                Raise(PoolEventKind.WorkerReady, worker, $"{worker.Describe()} is ready ({Elapsed(worker.StartedTicks)} ms after launch).");
                Monitor.PulseAll(_gate);
                DispatchLocked();
                RearmTimerLocked();
            }
            FlushEvents();
        }

        internal Chunk? PeekInFlight(WorkerProcess worker)
        {
            lock (_gate) return worker.InFlight.Count > 0 ? worker.InFlight.Peek() : null;
        }

        /// <summary>True when a worker other than <paramref name="except"/> is running item <paramref name="sequence"/> of <paramref name="map"/> now (and was not killed).</summary>
        internal bool RunsElsewhere(MapRun map, long sequence, WorkerProcess except)
        {
            lock (_gate)
            {
                foreach (var worker in _workers)
                {
                    if (worker == except || worker.State == WorkerState.Gone || worker.Kill != KillReason.None || worker.InFlight.Count == 0) continue;
                    var chunk = worker.InFlight.Peek();
                    int index = Volatile.Read(ref chunk.NextIndex);
                    if (chunk.Map == map && index < chunk.Count && chunk.Sequences[index] == sequence) return true;
                }
                return false;
            }
        }

        internal void OnChunkDone(WorkerProcess worker, Chunk chunk, long micros, long workingSet)
        {
            lock (_gate)
            {
                if (worker.InFlight.Count > 0 && worker.InFlight.Peek() == chunk) worker.InFlight.Dequeue();
                long now = Stopwatch.GetTimestamp();
                worker.ItemsDone += chunk.Count;
                worker.WarmMaps.Add(chunk.Map.Id);
                worker.WorkingSet = workingSet;
                worker.LastActivityTicks = now;
                worker.CurrentItemStartTicks = now;
                _itemsCompleted += chunk.Count;
                bool overCeiling = _options.MaxWorkerMemoryBytes is long maxBytes && workingSet > maxBytes;
                worker.Group.ItemsCompleted += chunk.Count;
                if (worker.State == WorkerState.Ready)
                {
                    if (_options.MaxTasksPerWorker is int maxTasks && worker.ItemsDone >= maxTasks)
                        RetireLocked(worker, $"it ran {worker.ItemsDone} items (limit {maxTasks})");
                    else if (overCeiling)
                        RetireLocked(worker, $"its working set is {workingSet / (1024 * 1024)} MB (limit {_options.MaxWorkerMemoryBytes!.Value / (1024 * 1024)} MB)");
                }
                if (overCeiling && worker.InFlight.Count > 0)
                {
                    // The worker read the same figure and runs none of the chunks queued behind this one: they go back
                    // to the queue, ahead of new work, and run on another worker.
                    foreach (var queued in worker.InFlight.Reverse()) _ready.AddFirst(queued);
                    worker.InFlight.Clear();
                }
                if (worker.State == WorkerState.Retiring && worker.InFlight.Count == 0) worker.SendShutdown();
                // Measured before dispatching, so the next chunk cut for this worker already has the new size.
                chunk.Map.Sizer.Observe(chunk.Count, micros);
                EnsureWorkersLocked();
                DispatchLocked();
            }
            try
            {
                chunk.Map.Options.ChunkCompleted?.Invoke(new ChunkRecord(chunk.Id, worker.Id, worker.ProcessId, chunk.Count, TimeSpan.FromTicks(micros * 10)));
            }
            catch (Exception error)
            {
                // The callback belongs to the map (a job log, say): its failure stops that map, not the worker or the pool.
                chunk.Map.Stop(new PoolException($"The map's chunk callback failed: {error.Message}", error));
            }
            FlushEvents();
        }

        internal void OnDefineFailed(int mapId, ErrorInfo error)
        {
            MapRun? map;
            lock (_gate) map = _maps.FirstOrDefault(m => m.Id == mapId);
            map?.Stop(new MapDefinitionException($"The workers could not prepare the map: {error.Message}", error.Type));
        }

        /// <summary>A line of a worker's stderr, on the runtime's reader thread; the caller turns a throwing subscriber into a fault.</summary>
        /// <summary>Called on a worker's stderr thread: a subscriber that throws breaks the pool (<see cref="Fault"/>), like one that throws on any other event.</summary>
        internal void OnWorkerOutput(WorkerProcess worker, string line)
        {
            var e = new PoolEvent(PoolEventKind.WorkerOutput, worker.Id, worker.ProcessId, $"{worker.Describe()}: {line}");
            try { EventRaised?.Invoke(this, e); }
            catch (Exception error) { Fault(error, $"a subscriber of {nameof(EventRaised)} ({e.Kind})"); }
        }

        internal void OnWorkerGone(WorkerProcess worker, Exception? failure, int? exitCode, int? signal)
        {
            List<Chunk> lost;
            WorkerState state;
            KillReason kill;
            long timedOut;
            lock (_gate)
            {
                state = worker.State;
                // Read once, with the state: from here on nothing may change why this worker died.
                kill = worker.Kill;
                timedOut = worker.TimedOutSequence;
                worker.State = WorkerState.Gone;
                _workers.Remove(worker);
                lost = worker.InFlight.ToList();
                worker.InFlight.Clear();
                string how = DescribeExit(exitCode, signal);
                if (state == WorkerState.Starting)
                {
                    var kind = StartFailure.Classify(kill, failure, exitCode, signal);
                    // A remote host's own failures (unreachable, authentication, no PowerShell, start timeout) count against
                    // that host; a start the pool stopped, or a kill from outside, is handled as for a local worker.
                    if (worker.Group.IsRemote && kind != StartFailureKind.ByPool && kind != StartFailureKind.Outside)
                    {
                        string why = kind == StartFailureKind.TimedOut
                            ? $"it did not finish starting within {_options.StartTimeout.TotalSeconds:0.###} s and was killed ({failure?.Message})"
                            : failure?.Message ?? $"it exited during start ({how})";
                        Raise(PoolEventKind.WorkerStartFailed, worker, $"{worker.Describe()} failed to start: {why}");
                        OnRemoteStartFailedLocked(worker.Group, why, failure);
                    }
                    else OnStartFailedLocked(worker, kind, failure, how);
                }
                else if (state == WorkerState.Retiring && lost.Count == 0 && kill == KillReason.None)
                {
                    Raise(PoolEventKind.WorkerExited, worker, $"{worker.Describe()} exited ({worker.RetireReason}).");
                    if (worker.FinalizerError is ErrorInfo finalizer)
                        Raise(PoolEventKind.FinalizerFailed, worker, $"{worker.Describe()}: its finalizer failed when it was retired ({worker.RetireReason}): {finalizer}");
                }
                else if (kill == KillReason.ShutdownTimeout)
                {
                    Raise(PoolEventKind.FinalizerFailed, worker, $"{worker.Describe()} did not exit within {_options.ShutdownTimeout.TotalSeconds:0.###} s of its shutdown ({worker.RetireReason}); its finalizer was still running, and it was killed.");
                }
                else if (kill != KillReason.Terminated && kill != KillReason.Cancelled)
                {
                    _workersLost++;
                    worker.Group.WorkersLost++;
                    string cause = failure is ProtocolException ? $"protocol error: {failure.Message}" : how;
                    Raise(PoolEventKind.WorkerLost, worker, $"{worker.Describe()} was lost ({cause}); {lost.Sum(c => c.Count - c.NextIndex)} unfinished items are rescheduled.");
                }
                Monitor.PulseAll(_gate);
            }

            var requeue = new List<Chunk>();
            for (int c = 0; c < lost.Count; c++)
            {
                var chunk = lost[c];
                int start = chunk.NextIndex;
                // Only the first chunk was running; the item it was on is judged, everything else simply runs again.
                if (c == 0 && start < chunk.Count && !IsInnocent(kill, timedOut, chunk, chunk.Sequences[start]))
                {
                    var retry = Blame(worker, kill, timedOut, chunk, start, failure, exitCode, signal);
                    if (retry != null) requeue.Add(retry);
                    start++;
                }
                var rest = Remaining(chunk, start);
                if (rest != null) requeue.Add(rest);
            }
            lock (_gate)
            {
                foreach (var chunk in Enumerable.Reverse(requeue)) _ready.AddFirst(chunk);
                EnsureWorkersLocked();
                DispatchLocked();
                RearmTimerLocked();
            }
            FlushEvents();
        }

        /// <summary>First restart delay after a worker is killed from outside while starting; doubled per repeat.</summary>
        private const int FirstRestartBackoffMilliseconds = 100;
        /// <summary>Longest restart delay: a pool under a kill storm still tries every 2 s, so it recovers soon after.</summary>
        private const int MaxRestartBackoffMilliseconds = 2000;

        /// <summary>
        /// A worker ended before it was ready. Killed from outside: a replacement starts after a backoff, and the pool
        /// is not blamed. Otherwise the failure counts, and <c>max(3, size)</c> of them in a row with no worker ready
        /// break the pool with their cause; a transient cause lets the next map try again.
        /// </summary>
        private void OnStartFailedLocked(WorkerProcess worker, StartFailureKind kind, Exception? failure, string how)
        {
            Debug.Assert(Monitor.IsEntered(_gate));
            switch (kind)
            {
                case StartFailureKind.ByPool:
                    Raise(PoolEventKind.WorkerExited, worker, $"{worker.Describe()} was stopped while starting.");
                    return;
                case StartFailureKind.Outside:
                    _pendingRestarts++;
                    _restartBackoffMs = _restartBackoffMs == 0 ? FirstRestartBackoffMilliseconds : Math.Min(MaxRestartBackoffMilliseconds, _restartBackoffMs * 2);
                    _restartAfterTicks = Stopwatch.GetTimestamp() + _restartBackoffMs * Stopwatch.Frequency / 1000;
                    Raise(PoolEventKind.WorkerStartFailed, worker, $"{worker.Describe()} was killed from outside while starting ({how}); a replacement starts in {_restartBackoffMs} ms.");
                    return;
            }
            _consecutiveStartFailures++;
            string why = kind == StartFailureKind.TimedOut
                ? $"it did not finish starting within {_options.StartTimeout.TotalSeconds:0.###} s and was killed ({failure?.Message})"
                : failure is ProtocolException { StreamEnded: true } || failure == null
                    ? $"{failure?.Message ?? "it exited during start."} It ended with {how}."
                    : failure.Message;
            Raise(PoolEventKind.WorkerStartFailed, worker, $"{worker.Describe()} failed to start: {why}");
            if (_state == PoolState.Running && _consecutiveStartFailures >= Math.Max(3, _options.Size) && !_workers.Any(w => w.State == WorkerState.Ready))
                BreakLocked(failure is WorkerSetupFailure || (failure is ProtocolException p && !p.StreamEnded) ? failure : new PoolException(why, failure),
                    transient: kind != StartFailureKind.Setup);
        }

        /// <summary>
        /// A remote host whose workers fail to start, each slot at least once (two starts for a one-worker host), with none
        /// of its workers ready, is given up: its work runs on the other hosts. The pool breaks when no host is left.
        /// </summary>
        private void OnRemoteStartFailedLocked(WorkerGroup group, string why, Exception? failure)
        {
            Debug.Assert(Monitor.IsEntered(_gate));
            group.ConsecutiveStartFailures++;
            group.LastError = why;
            if (group.Down || _state != PoolState.Running) return;
            if (group.ConsecutiveStartFailures < Math.Max(2, group.Size) || _workers.Any(w => w.Group == group && w.State == WorkerState.Ready)) return;
            group.Down = true;
            Raise(PoolEventKind.HostFailed, null, $"Host {group.HostName} is left out of the pool '{Name}': {why}");
            if (_groups.All(g => g.Down))
                BreakLocked(new BrokenPoolException($"The pool '{Name}' has no host left: {string.Join("; ", _groups.Select(g => g.HostName + ": " + g.LastError))}", failure),
                    transient: false);
        }

        /// <summary>Decides the fate of the item a worker was running when it died; returns a chunk to re-run it, or null when it was reported or needs nothing.</summary>
        private Chunk? Blame(WorkerProcess worker, KillReason kill, long timedOut, Chunk chunk, int index, Exception? failure, int? exitCode, int? signal)
        {
            long sequence = chunk.Sequences[index];
            byte[] item = chunk.Items[index];
            var now = DateTime.UtcNow;
            var ran = TimeSpan.FromSeconds(Elapsed(worker.CurrentItemStartTicks) / 1000.0);
            switch (kill)
            {
                case KillReason.ItemTimeout when timedOut == sequence:
                    var timeout = chunk.Map.Options.ItemTimeout ?? TimeSpan.Zero;
                    return chunk.Map.ItemFailed(sequence, chunk.Id, item,
                        new ItemTimeoutException(sequence, $"ran longer than {timeout.TotalSeconds:0.###} s; {worker.Describe()} was killed and replaced.", timeout),
                        Array.Empty<OutputRecord>(), worker.Id, worker.ProcessId, now - ran, ran, worker.Group.HostName);
                default:
                    bool garbled = failure is ProtocolException { StreamEnded: false };
                    // A signal that usually comes from outside (a user, a supervisor, the OOM killer) is weak evidence:
                    // it counts against the item only when it ends a run of the item alone, and only at the
                    // MaxKillsPerItem-th time. An exit code, a crash signal or a garbled stream comes from the item.
                    bool outside = kill == KillReason.None && !garbled && StartFailure.IsOutsideSignal(signal);
                    string how = failure is ProtocolException && !outside ? $"a protocol error ({failure.Message})" : DescribeExit(exitCode, signal);
                    return chunk.Map.ItemCrashed(sequence, item, chunk.Isolated, outside,
                        times => new WorkerTerminatedException(sequence, outside
                            ? $"was killed each of the {times} times it ran alone: {worker.Describe()} ended with {how}."
                            : $"killed its worker every time it ran: {worker.Describe()} ended with {how}.", exitCode, signal),
                        worker.Id, worker.ProcessId, now - ran, ran, worker.Group.HostName);
            }
        }

        /// <summary>
        /// True when the worker's death was the pool's doing and not this item's: the item is simply run again.
        /// An isolated re-run is judged only if the worker confirmed it started it: a worker that died before that
        /// (killed from outside while starting, say) proves nothing about the item.
        /// </summary>
        private static bool IsInnocent(KillReason kill, long timedOut, Chunk chunk, long sequence) => kill switch
        {
            KillReason.None or KillReason.ProtocolError => chunk.Isolated && !chunk.Started,
            KillReason.ItemTimeout => timedOut != sequence,
            _ => true,
        };

        private static Chunk? Remaining(Chunk chunk, int from)
        {
            var sequences = new List<long>();
            var items = new List<byte[]>();
            for (int i = from; i < chunk.Count; i++)
            {
                if (!chunk.Map.IsPending(chunk.Sequences[i])) continue;
                sequences.Add(chunk.Sequences[i]);
                items.Add(chunk.Items[i]);
            }
            return sequences.Count == 0 ? null : new Chunk(chunk.Map, sequences.ToArray(), items.ToArray());
        }

        // ---- scheduling (all under _gate) --------------------------------------------------------

        /// <summary>
        /// Hands chunks to workers with room: re-runs and returned chunks first (they are older), then chunks cut from
        /// the maps' open items at the moment a worker can take them.
        /// </summary>
        /// <param name="partial">Only the timer passes true: a worker idle at a tick takes whatever the producers have, so output streams while input trickles in, yet a busy producer is never cut into tiny chunks.</param>
        private void DispatchLocked(bool partial = false)
        {
            Debug.Assert(Monitor.IsEntered(_gate));
            while (true)
            {
                if (_ready.Count == 0 && !CutChunkLocked(partial)) break;
                var chunk = _ready.First!.Value;
                if (chunk.Map.IsStopped)
                {
                    _ready.RemoveFirst();
                    continue;
                }
                var worker = PickWorkerLocked(chunk);
                if (worker == null) break;
                _ready.RemoveFirst();
                if (worker.InFlight.Count == 0) worker.CurrentItemStartTicks = Stopwatch.GetTimestamp();
                chunk.Started = false;
                chunk.AwaitsStart = worker.SentMaps.Add(chunk.Map.Id) || chunk.Isolated; // the worker's rule too (WorkerLoop.RunChunk)
                worker.InFlight.Enqueue(chunk);
                worker.SendChunk(chunk);
            }
            _hasIdleWorker = _ready.Count == 0 && _workers.Any(w => w.State == WorkerState.Ready && w.InFlight.Count == 0);
            if (_replaceRetired)
            {
                _replaceRetired = false;
                EnsureWorkersLocked();
            }
        }

        /// <summary>
        /// Cuts one chunk from the next map (in turn, so concurrent maps share the workers) for which some worker has
        /// room, and queues it; false when there is none.
        /// </summary>
        private bool CutChunkLocked(bool partial)
        {
            Debug.Assert(Monitor.IsEntered(_gate));
            bool idleWorker = partial && _workers.Any(w => w.State == WorkerState.Ready && w.InFlight.Count == 0);
            for (int i = 0; i < _maps.Count; i++)
            {
                var map = _maps[(_nextMapToCut + i) % _maps.Count];
                if (!_workers.Any(w => w.State == WorkerState.Ready && HasRoomLocked(w, map))) continue;
                var chunk = map.TakeChunk(idleWorker);
                if (chunk == null) continue;
                _nextMapToCut = (_nextMapToCut + i + 1) % _maps.Count;
                _ready.AddLast(chunk);
                return true;
            }
            return false;
        }

        /// <summary>
        /// The ready worker with the least queued work that can take <paramref name="chunk"/>, or null. An isolated
        /// re-run prefers a worker already warm for its map, so it runs in its true time rather than a fresh
        /// worker's cold start, and a death during it says more about the item.
        /// </summary>
        private WorkerProcess? PickWorkerLocked(Chunk chunk)
        {
            Debug.Assert(Monitor.IsEntered(_gate));
            WorkerProcess? best = null;
            foreach (var worker in _workers)
            {
                if (worker.State != WorkerState.Ready || !CanAcceptLocked(worker, chunk)) continue;
                if (best == null || Rank(worker) < Rank(best)) best = worker;
            }
            return best;

            int Rank(WorkerProcess w) => w.InFlight.Count + (chunk.Isolated && !w.WarmMaps.Contains(chunk.Map.Id) ? MaxPrefetch : 0);
        }

        private const int MaxPrefetch = 16;

        /// <summary>
        /// A worker holds its running chunk and one more, so it never waits on a round trip; when chunks are tiny
        /// (under a millisecond) it may hold up to <see cref="MaxPrefetch"/>, or the pipe round trip would dominate.
        /// With a task limit it is never given more than its remaining budget; an idle worker whose budget cannot
        /// fit the chunk is retired instead, so the limit is a true upper bound.
        /// </summary>
        private bool CanAcceptLocked(WorkerProcess worker, Chunk chunk)
        {
            Debug.Assert(Monitor.IsEntered(_gate));
            if (_options.MaxTasksPerWorker is int maxTasks)
            {
                long queued = worker.ItemsDone + worker.InFlight.Sum(c => c.Count);
                if (queued + chunk.Count > maxTasks)
                {
                    if (worker.InFlight.Count == 0)
                    {
                        RetireLocked(worker, $"it ran {worker.ItemsDone} items and the next chunk would pass its limit of {maxTasks}");
                        worker.SendShutdown();
                        _replaceRetired = true; // not here: the caller is iterating the workers
                    }
                    return false;
                }
            }
            return HasRoomLocked(worker, chunk.Map);
        }

        private bool HasRoomLocked(WorkerProcess worker, MapRun map)
        {
            Debug.Assert(Monitor.IsEntered(_gate));
            int depth = worker.InFlight.Count;
            if (depth < 2) return true;
            double last = map.Sizer.LastChunkMicros;
            return depth < MaxPrefetch && last >= 0 && last < 1000;
        }

        /// <summary>
        /// Starts workers up to each group's size (a remote group given up excepted) when there is work (or <paramref name="force"/>), and replaces workers
        /// killed from outside while starting even without work, once their backoff has passed (the timer comes back
        /// for them then).
        /// </summary>
        private void EnsureWorkersLocked(bool force = false)
        {
            Debug.Assert(Monitor.IsEntered(_gate));
            if (_state != PoolState.Running && _state != PoolState.Closing) return;
            bool work = force || _maps.Count > 0 || _ready.Count > 0;
            if (!work && _pendingRestarts == 0) return;
            if (Stopwatch.GetTimestamp() < _restartAfterTicks)
            {
                ArmTimerLocked(_restartAfterTicks);
                return;
            }
            // Each group is kept at its size when there is work; without work only the workers killed while starting
            // are replaced, in whichever groups are short of workers.
            int restarts = _pendingRestarts;
            _pendingRestarts = 0;
            foreach (var group in _groups)
            {
                if (group.Down) continue;
                int live = _workers.Count(w => w.Group == group && (w.State == WorkerState.Starting || w.State == WorkerState.Ready));
                int target = work ? group.Size : Math.Min(group.Size, live + restarts);
                if (!work) restarts -= Math.Max(0, target - live);
                for (int i = live; i < target; i++)
                {
                    var worker = new WorkerProcess(this, _options, ++_nextWorkerId, group);
                    _workers.Add(worker);
                    _workersStarted++;
                    ThreadPool.QueueUserWorkItem(_ => StartWorker(worker));
                }
            }
        }

        private void StartWorker(WorkerProcess worker)
        {
            try
            {
                try
                {
                    worker.Start();
                    lock (_gate)
                    {
                        _everStarted.Add(worker.ProcessId);
                        Raise(PoolEventKind.WorkerStarting, worker, $"{worker.Describe()} launched: {worker.Group.Launch.FileName}.");
                        RearmTimerLocked(); // its start timeout is due
                    }
                }
                catch (BrokenPoolException error)
                {
                    lock (_gate)
                    {
                        _workers.Remove(worker);
                        worker.State = WorkerState.Gone;
                        _consecutiveStartFailures++;
                        Raise(PoolEventKind.WorkerStartFailed, worker, $"{worker.Describe()} failed to start: {error.Message}");
                        // A launch that fails outright (missing executable) will fail the same way every time.
                        if (_state == PoolState.Running) BreakLocked(error, transient: false);
                        Monitor.PulseAll(_gate);
                    }
                }
                FlushEvents();
            }
            catch (Exception error)
            {
                Fault(error, $"starting {worker.Describe()}");
            }
        }

        private void RetireLocked(WorkerProcess worker, string reason)
        {
            Debug.Assert(Monitor.IsEntered(_gate));
            worker.State = WorkerState.Retiring;
            worker.RetireReason = reason;
            _workersRecycled++;
            Raise(PoolEventKind.WorkerRecycled, worker, $"{worker.Describe()} is recycled: {reason}.");
        }

        private void BreakLocked(Exception cause, bool transient)
        {
            Debug.Assert(Monitor.IsEntered(_gate));
            _state = PoolState.Broken;
            _brokenBy = cause;
            _brokenTransient = transient;
            Raise(PoolEventKind.PoolBroken, null, $"The pool '{Name}' is broken: {cause.Message}");
            var maps = _maps.ToList();
            var error = Broken();
            ThreadPool.QueueUserWorkItem(_ => { foreach (var map in maps) map.Stop(error); });
            Monitor.PulseAll(_gate);
        }

        private BrokenPoolException Broken()
        {
            var cause = _brokenBy;
            return cause as BrokenPoolException
                ?? new BrokenPoolException($"The pool '{Name}' cannot start workers: {cause?.Message}", cause is WorkerSetupFailure setup ? setup.InnerException : cause);
        }

        private void ThrowIfNotRunningLocked()
        {
            Debug.Assert(Monitor.IsEntered(_gate));
            if (_state == PoolState.Broken) throw Broken();
            if (_state != PoolState.Running) throw new PoolClosedException($"The pool '{Name}' is {_state.ToString().ToLowerInvariant()}; it accepts no new work.");
        }

        /// <summary>
        /// Timer period while there is work. Besides timeouts, the tick hands a partly filled chunk to an idle worker,
        /// so a producer that pauses still has its items running within this time, while a busy producer fills whole
        /// chunks. Without work the timer fires only when a start timeout, a restart, an idle timeout or a retiring worker's
        /// shutdown timeout is due.
        /// </summary>
        private const int TickMilliseconds = 20;

        /// <summary>Arms the one-shot timer for the earliest moment something is due; disarmed when nothing is.</summary>
        private void RearmTimerLocked()
        {
            Debug.Assert(Monitor.IsEntered(_gate));
            long now = Stopwatch.GetTimestamp();
            long due = long.MaxValue;
            if (_maps.Count > 0 || _ready.Count > 0 || _workers.Any(w => w.InFlight.Count > 0))
                due = now + TickMilliseconds * Stopwatch.Frequency / 1000;
            foreach (var worker in _workers)
            {
                if (worker.State == WorkerState.Starting)
                    due = Math.Min(due, worker.StartedTicks + (long)(_options.StartTimeout.TotalSeconds * Stopwatch.Frequency));
                else if (worker.State == WorkerState.Ready && worker.InFlight.Count == 0 && _options.IdleTimeout is TimeSpan idle)
                    due = Math.Min(due, worker.LastActivityTicks + (long)(idle.TotalSeconds * Stopwatch.Frequency));
                else if (worker.State == WorkerState.Retiring && worker.ShutdownSentTicks != 0 && worker.Kill == KillReason.None)
                    due = Math.Min(due, worker.ShutdownSentTicks + (long)(_options.ShutdownTimeout.TotalSeconds * Stopwatch.Frequency) + Stopwatch.Frequency / 1000);
            }
            if (_pendingRestarts > 0) due = Math.Min(due, Math.Max(now, _restartAfterTicks));
            ArmTimerLocked(due);
        }

        /// <summary>Makes the timer fire by <paramref name="dueTicks"/>; an earlier arming stands (its tick re-arms).</summary>
        private void ArmTimerLocked(long dueTicks)
        {
            Debug.Assert(Monitor.IsEntered(_gate));
            if (_timerStopped || dueTicks >= _timerDueTicks) return;
            _timerDueTicks = dueTicks;
            long ms = Math.Max(1, (dueTicks - Stopwatch.GetTimestamp()) * 1000 / Stopwatch.Frequency + 1);
            _timer.Change(Math.Min(ms, int.MaxValue - 1), Timeout.Infinite);
        }

        /// <summary>Each tick: start and item timeouts, idle workers, run timeouts, restarts, partial chunks for idle workers.</summary>
        private void Tick()
        {
            try
            {
                TickCore();
            }
            catch (Exception error)
            {
                Fault(error, "the pool's timer");
            }
        }

        /// <summary>A test's way to make the timer thread fail, as a bug in it would.</summary>
        internal Action? TickHook;

        private void TickCore()
        {
            var kills = new List<(WorkerProcess Worker, KillReason Reason, long Sequence)>();
            var expired = new List<MapRun>();
            long now = Stopwatch.GetTimestamp();
            lock (_gate)
            {
                _timerDueTicks = long.MaxValue; // this firing is spent; whatever is due re-arms below
                TickHook?.Invoke();
                foreach (var worker in _workers)
                {
                    if (worker.State == WorkerState.Starting && Seconds(now - worker.StartedTicks) > _options.StartTimeout.TotalSeconds)
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
                             Seconds(now - worker.ShutdownSentTicks) > _options.ShutdownTimeout.TotalSeconds)
                    {
                        kills.Add((worker, KillReason.ShutdownTimeout, -1));
                    }
                    else if (worker.State == WorkerState.Ready && _options.IdleTimeout is TimeSpan idle &&
                             Seconds(now - worker.LastActivityTicks) > idle.TotalSeconds)
                    {
                        RetireLocked(worker, $"idle for {idle.TotalSeconds:0.#} s");
                        worker.SendShutdown();
                    }
                }
                foreach (var map in _maps)
                    if (now > map.RunDeadlineTicks) expired.Add(map);
                EnsureWorkersLocked();
                if (_hasIdleWorker && _maps.Count > 0) DispatchLocked(partial: true);
                RearmTimerLocked();
            }
            // Reported when the worker is gone (OnStartFailedLocked), with how it ended.
            foreach (var (worker, reason, sequence) in kills) worker.KillTree(reason, sequence);
            foreach (var map in expired)
            {
                var limit = map.Options.RunTimeout!.Value;
                map.Stop(new PoolTimeoutException($"The map ran longer than its {limit.TotalSeconds:0.###} s timeout and was stopped.", limit));
            }
            FlushEvents();
        }

        /// <summary>
        /// An exception escaped engine code on a thread the engine owns (or a callback it runs there). The host process
        /// must live: the pool breaks, for good, with a <see cref="BrokenPoolException"/> that names where and what,
        /// and its running maps fail with it. Safe to call from any thread, with or without the pool's lock.
        /// </summary>
        internal void Fault(Exception error, string where)
        {
            try
            {
                lock (_gate)
                {
                    if (_state != PoolState.Running && _state != PoolState.Closing) return;
                    BreakLocked(new BrokenPoolException($"The pool '{Name}' stopped: {where} failed with {error.GetType().FullName}: {error.Message}", error), transient: false);
                }
                ThreadPool.QueueUserWorkItem(_ => FlushEvents());
            }
            catch (Exception)
            {
                // Nothing more can be done on this thread; above all it must not end the process.
            }
        }

        // ---- events ------------------------------------------------------------------------------

        private void Raise(PoolEventKind kind, WorkerProcess? worker, string message)
        {
            lock (_pendingEvents) _pendingEvents.Add(new PoolEvent(kind, worker?.Id ?? 0, worker?.ProcessId ?? 0, message));
        }

        /// <summary>Delivers queued events outside the pool's lock, so a handler can never deadlock the scheduler.</summary>
        /// <remarks>A subscriber that throws breaks the pool (<see cref="Fault"/>), rather than failing silently or
        /// ending the host from an engine thread; the PoolBroken event it causes is delivered in the same call.</remarks>
        private void FlushEvents()
        {
            // One delivery at a time: handlers see events in order, and Close or Dispose, which flush last, return only
            // after every event raised before then was delivered (Remove-ProcessPool shows finalizer failures at once).
            lock (_delivery)
            {
                while (true)
                {
                    List<PoolEvent> events;
                    lock (_pendingEvents)
                    {
                        if (_pendingEvents.Count == 0) return;
                        events = _pendingEvents.ToList();
                        _pendingEvents.Clear();
                    }
                    var handler = EventRaised;
                    if (handler == null) continue;
                    foreach (var e in events)
                    {
                        try { handler(this, e); }
                        catch (Exception error) { Fault(error, $"a subscriber of {nameof(EventRaised)} ({e.Kind})"); }
                    }
                }
            }
        }

        private static double Seconds(long ticks) => ticks / (double)Stopwatch.Frequency;

        private static long Elapsed(long sinceTicks) => (Stopwatch.GetTimestamp() - sinceTicks) * 1000 / Stopwatch.Frequency;

        internal static string DescribeExit(int? exitCode, int? signal) =>
            signal is int s ? $"signal {s} ({SignalName(s)}, exit code {exitCode})"
            : exitCode is int code ? $"exit code {code}"
            : "an unknown exit status";

        private static string SignalName(int signal) => signal switch
        {
            2 => "SIGINT",
            6 => "SIGABRT",
            9 => "SIGKILL",
            11 => "SIGSEGV",
            15 => "SIGTERM",
            _ => "signal " + signal,
        };
    }
}
