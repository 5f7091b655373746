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
        private readonly HashSet<int> _everStarted = new HashSet<int>();
        private readonly Timer _timer;
        private PoolState _state = PoolState.Running;
        private Exception? _brokenBy;
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
            _timer = new Timer(_ => Tick(), null, TickMilliseconds, TickMilliseconds);
            if (options.StartEagerly)
            {
                lock (_gate) EnsureWorkersLocked(force: true);
            }
        }

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
                int starting = _workers.Count(w => w.State == WorkerState.Starting);
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

        /// <summary>Starts a map; submit items to the returned handle and take results from it.</summary>
        public MapRun StartMap(MapOptions options)
        {
            options.Validate();
            lock (_gate)
            {
                ThrowIfNotRunningLocked();
                var map = new MapRun(this, ++_nextMapId, options, _options.Size, _options.MaxTasksPerWorker);
                _maps.Add(map);
                EnsureWorkersLocked();
                return map;
            }
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
            ShutDown(timeout - clock.Elapsed, PoolState.Closed);
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
            foreach (var worker in workers) worker.KillTree(KillReason.Terminated);
            lock (_gate)
            {
                while (_workers.Count > 0 && clock.Elapsed < grace + TimeSpan.FromSeconds(10)) Monitor.Wait(_gate, TimeSpan.FromMilliseconds(100));
                if (_state != PoolState.Terminated || final == PoolState.Terminated) _state = final;
                _ready.Clear();
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
                    else worker.SendRelease(map.Id);
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
                    worker.SendRelease(map.Id);
                }
                Monitor.PulseAll(_gate);
            }
        }

        // ---- called by worker threads ------------------------------------------------------------

        internal void OnHello(WorkerProcess worker, HelloMessage hello)
        {
            worker.RemoteProcessId = hello.ProcessId;
            worker.SendSetup(new SetupMessage(worker.Id, (int)_options.HeartbeatInterval.TotalMilliseconds, new Dictionary<string, byte[]>(_options.RunnerSetup)));
        }

        internal void OnReady(WorkerProcess worker)
        {
            lock (_gate)
            {
                if (worker.State != WorkerState.Starting) return;
                worker.State = WorkerState.Ready;
                worker.LastActivityTicks = Stopwatch.GetTimestamp();
                _consecutiveStartFailures = 0;
                worker.Group.ConsecutiveStartFailures = 0;
                Raise(PoolEventKind.WorkerReady, worker, $"{worker.Describe()} is ready ({Elapsed(worker.StartedTicks)} ms after launch).");
                Monitor.PulseAll(_gate);
                DispatchLocked();
            }
            FlushEvents();
        }

        internal Chunk? PeekInFlight(WorkerProcess worker)
        {
            lock (_gate) return worker.InFlight.Count > 0 ? worker.InFlight.Peek() : null;
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
                worker.Group.ItemsCompleted += chunk.Count;
                if (worker.State == WorkerState.Ready)
                {
                    if (_options.MaxTasksPerWorker is int maxTasks && worker.ItemsDone >= maxTasks)
                        RetireLocked(worker, $"it ran {worker.ItemsDone} items (limit {maxTasks})");
                    else if (_options.MaxWorkerMemoryBytes is long maxBytes && workingSet > maxBytes)
                        RetireLocked(worker, $"its working set is {workingSet / (1024 * 1024)} MB (limit {maxBytes / (1024 * 1024)} MB)");
                }
                if (worker.State == WorkerState.Retiring && worker.InFlight.Count == 0) worker.SendShutdown();
                // Measured before dispatching, so the next chunk cut for this worker already has the new size.
                chunk.Map.Sizer.Observe(chunk.Count, micros);
                EnsureWorkersLocked();
                DispatchLocked();
            }
            chunk.Map.Options.ChunkCompleted?.Invoke(new ChunkRecord(chunk.Id, worker.Id, worker.ProcessId, chunk.Count, TimeSpan.FromTicks(micros * 10)));
            FlushEvents();
        }

        internal void OnDefineFailed(int mapId, ErrorInfo error)
        {
            MapRun? map;
            lock (_gate) map = _maps.FirstOrDefault(m => m.Id == mapId);
            map?.Stop(new MapDefinitionException($"The workers could not prepare the map: {error.Message}", error.Type));
        }

        internal void OnWorkerOutput(WorkerProcess worker, string line)
        {
            EventRaised?.Invoke(this, new PoolEvent(PoolEventKind.WorkerOutput, worker.Id, worker.ProcessId, $"{worker.Describe()}: {line}"));
        }

        internal void OnWorkerGone(WorkerProcess worker, Exception? failure, int? exitCode, int? signal)
        {
            List<Chunk> lost;
            WorkerState state;
            lock (_gate)
            {
                state = worker.State;
                worker.State = WorkerState.Gone;
                _workers.Remove(worker);
                lost = worker.InFlight.ToList();
                worker.InFlight.Clear();
                string how = DescribeExit(exitCode, signal);
                if (state == WorkerState.Starting)
                {
                    string why = failure?.Message ?? $"it exited during start ({how})";
                    Raise(PoolEventKind.WorkerStartFailed, worker, $"{worker.Describe()} failed to start: {why}");
                    if (worker.Group.IsRemote) OnRemoteStartFailedLocked(worker.Group, why, failure);
                    else _consecutiveStartFailures++;
                    if (_state == PoolState.Running && _consecutiveStartFailures >= Math.Max(3, _options.Size) && !_workers.Any(w => w.State == WorkerState.Ready))
                        BreakLocked(failure ?? new PoolException($"Workers exit during start ({how})."));
                }
                else if (state == WorkerState.Retiring && lost.Count == 0 && worker.Kill == KillReason.None)
                {
                    Raise(PoolEventKind.WorkerExited, worker, $"{worker.Describe()} exited ({worker.RetireReason}).");
                }
                else if (worker.Kill != KillReason.Terminated && worker.Kill != KillReason.Cancelled)
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
                if (c == 0 && start < chunk.Count && !IsInnocent(worker, chunk, chunk.Sequences[start]))
                {
                    var retry = Blame(worker, chunk, start, failure, exitCode, signal);
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
            }
            FlushEvents();
        }

        /// <summary>
        /// A remote host whose workers fail to start, each slot at least once (two starts for a one-worker host), with none
        /// of its workers ready, is given up: its work runs on the other hosts. The pool breaks when no host is left.
        /// </summary>
        private void OnRemoteStartFailedLocked(WorkerGroup group, string why, Exception? failure)
        {
            group.ConsecutiveStartFailures++;
            group.LastError = why;
            if (group.Down || _state != PoolState.Running) return;
            if (group.ConsecutiveStartFailures < Math.Max(2, group.Size) || _workers.Any(w => w.Group == group && w.State == WorkerState.Ready)) return;
            group.Down = true;
            Raise(PoolEventKind.HostFailed, null, $"Host {group.HostName} is left out of the pool '{Name}': {why}");
            if (_groups.All(g => g.Down))
                BreakLocked(new BrokenPoolException($"The pool '{Name}' has no host left: {string.Join("; ", _groups.Select(g => g.HostName + ": " + g.LastError))}", failure));
        }

        /// <summary>Decides the fate of the item a worker was running when it died; returns a chunk to re-run it, or null when it was reported or needs nothing.</summary>
        private Chunk? Blame(WorkerProcess worker, Chunk chunk, int index, Exception? failure, int? exitCode, int? signal)
        {
            long sequence = chunk.Sequences[index];
            byte[] item = chunk.Items[index];
            var now = DateTime.UtcNow;
            var ran = TimeSpan.FromSeconds(Elapsed(worker.CurrentItemStartTicks) / 1000.0);
            switch (worker.Kill)
            {
                case KillReason.ItemTimeout when worker.TimedOutSequence == sequence:
                    var timeout = chunk.Map.Options.ItemTimeout ?? TimeSpan.Zero;
                    return chunk.Map.ItemFailed(sequence, item,
                        new ItemTimeoutException($"Item {sequence} ran longer than {timeout.TotalSeconds:0.###} s; {worker.Describe()} was killed and replaced.", timeout),
                        Array.Empty<OutputRecord>(), worker.Id, worker.ProcessId, now - ran, ran, worker.Group.HostName);
                default:
                    string how = failure is ProtocolException ? $"a protocol error ({failure.Message})" : DescribeExit(exitCode, signal);
                    return chunk.Map.ItemCrashed(sequence, item,
                        () => new WorkerTerminatedException($"Item {sequence} killed its worker every time it ran: {worker.Describe()} ended with {how}.", exitCode, signal),
                        worker.Id, worker.ProcessId, now - ran, ran, worker.Group.HostName);
            }
        }

        /// <summary>
        /// True when the worker's death was the pool's doing and not this item's: the item is simply run again.
        /// An isolated re-run is judged only if the worker confirmed it started it: a worker that died before that
        /// (killed from outside while starting, say) proves nothing about the item.
        /// </summary>
        private static bool IsInnocent(WorkerProcess worker, Chunk chunk, long sequence) => worker.Kill switch
        {
            KillReason.None or KillReason.ProtocolError => chunk.Isolated && !chunk.Started,
            KillReason.ItemTimeout => worker.TimedOutSequence != sequence,
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
                worker.InFlight.Enqueue(chunk);
                worker.SendChunk(chunk);
            }
            _hasIdleWorker = _ready.Count == 0 && _workers.Any(w => w.State == WorkerState.Ready && w.InFlight.Count == 0);
        }

        /// <summary>
        /// Cuts one chunk from the next map (in turn, so concurrent maps share the workers) for which some worker has
        /// room, and queues it; false when there is none.
        /// </summary>
        private bool CutChunkLocked(bool partial)
        {
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
            if (_options.MaxTasksPerWorker is int maxTasks)
            {
                long queued = worker.ItemsDone + worker.InFlight.Sum(c => c.Count);
                if (queued + chunk.Count > maxTasks)
                {
                    if (worker.InFlight.Count == 0)
                    {
                        RetireLocked(worker, $"it ran {worker.ItemsDone} items and the next chunk would pass its limit of {maxTasks}");
                        worker.SendShutdown();
                        EnsureWorkersLocked();
                    }
                    return false;
                }
            }
            return HasRoomLocked(worker, chunk.Map);
        }

        private static bool HasRoomLocked(WorkerProcess worker, MapRun map)
        {
            int depth = worker.InFlight.Count;
            if (depth < 2) return true;
            double last = map.Sizer.LastChunkMicros;
            return depth < MaxPrefetch && last >= 0 && last < 1000;
        }

        private void EnsureWorkersLocked(bool force = false)
        {
            if (_state != PoolState.Running && _state != PoolState.Closing) return;
            if (!force && _maps.Count == 0 && _ready.Count == 0) return;
            foreach (var group in _groups)
            {
                if (group.Down) continue;
                int live = _workers.Count(w => w.Group == group && (w.State == WorkerState.Starting || w.State == WorkerState.Ready));
                for (int i = live; i < group.Size; i++)
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
                worker.Start();
                lock (_gate)
                {
                    _everStarted.Add(worker.ProcessId);
                    Raise(PoolEventKind.WorkerStarting, worker, $"{worker.Describe()} launched: {worker.Group.Launch.FileName}.");
                }
            }
            catch (Exception error)
            {
                lock (_gate)
                {
                    _workers.Remove(worker);
                    worker.State = WorkerState.Gone;
                    _consecutiveStartFailures++;
                    Raise(PoolEventKind.WorkerStartFailed, worker, $"{worker.Describe()} failed to start: {error.Message}");
                    // A launch that fails outright (missing executable) will fail the same way every time.
                    if (_state == PoolState.Running) BreakLocked(error);
                    Monitor.PulseAll(_gate);
                }
            }
            FlushEvents();
        }

        private void RetireLocked(WorkerProcess worker, string reason)
        {
            worker.State = WorkerState.Retiring;
            worker.RetireReason = reason;
            _workersRecycled++;
            Raise(PoolEventKind.WorkerRecycled, worker, $"{worker.Describe()} is recycled: {reason}.");
        }

        private void BreakLocked(Exception cause)
        {
            _state = PoolState.Broken;
            _brokenBy = cause;
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
            if (_state == PoolState.Broken) throw Broken();
            if (_state != PoolState.Running) throw new PoolClosedException($"The pool '{Name}' is {_state.ToString().ToLowerInvariant()}; it accepts no new work.");
        }

        /// <summary>
        /// Timer period. Besides timeouts, the tick hands a partly filled chunk to an idle worker, so a producer that
        /// pauses still has its items running within this time, while a busy producer fills whole chunks.
        /// </summary>
        private const int TickMilliseconds = 20;

        /// <summary>Every tick: start and item timeouts, idle workers, run timeouts, partial chunks for idle workers.</summary>
        private void Tick()
        {
            var kills = new List<(WorkerProcess Worker, KillReason Reason, long Sequence)>();
            var expired = new List<MapRun>();
            long now = Stopwatch.GetTimestamp();
            lock (_gate)
            {
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
                        if (chunk.Map.Options.ItemTimeout is TimeSpan limit && index < chunk.Count &&
                            Seconds(now - worker.CurrentItemStartTicks) > limit.TotalSeconds)
                            kills.Add((worker, KillReason.ItemTimeout, chunk.Sequences[index]));
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
                if (_hasIdleWorker && _maps.Count > 0) DispatchLocked(partial: true);
            }
            foreach (var (worker, reason, sequence) in kills)
            {
                if (reason == KillReason.StartTimeout)
                    Raise(PoolEventKind.WorkerStartFailed, worker, $"{worker.Describe()} did not finish starting within {_options.StartTimeout.TotalSeconds:0} s and was killed.");
                worker.KillTree(reason, sequence);
            }
            foreach (var map in expired)
            {
                var limit = map.Options.RunTimeout!.Value;
                map.Stop(new PoolTimeoutException($"The map ran longer than its {limit.TotalSeconds:0.###} s timeout and was stopped.", limit));
            }
            FlushEvents();
        }

        // ---- events ------------------------------------------------------------------------------

        private void Raise(PoolEventKind kind, WorkerProcess? worker, string message)
        {
            lock (_pendingEvents) _pendingEvents.Add(new PoolEvent(kind, worker?.Id ?? 0, worker?.ProcessId ?? 0, message));
        }

        /// <summary>Delivers queued events outside the pool's lock, so a handler can never deadlock the scheduler.</summary>
        private void FlushEvents()
        {
            List<PoolEvent> events;
            lock (_pendingEvents)
            {
                if (_pendingEvents.Count == 0) return;
                events = _pendingEvents.ToList();
                _pendingEvents.Clear();
            }
            var handler = EventRaised;
            if (handler == null) return;
            foreach (var e in events)
            {
                try { handler(this, e); }
                catch (Exception) { /* a subscriber's failure must not break the pool */ }
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
