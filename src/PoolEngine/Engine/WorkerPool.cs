using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using ProcessPool.Engine.Protocol;

namespace ProcessPool.Engine
{
    /// <summary>
    /// A pool of reused worker processes that run maps: its public face, its lifecycle, and the callbacks from maps and
    /// worker threads, which it hands to one class per concern.
    /// <code>
    /// producer ─Submit─► MapRun (bounded slots, open items) ─cut when a worker has room─► Dispatcher ─► worker outbox ─writer─► stdin
    /// consumer ◄─TryTake─ MapRun (reorder) ◄─ItemsDone─ reader thread ◄─ frames on stdout ◄─ worker loop ◄────────────┘
    /// </code>
    /// <see cref="Dispatcher"/> hands chunks to workers; <see cref="WorkerStarts"/> keeps the groups at their size and
    /// judges failed starts; <see cref="CrashBlame"/> decides what becomes of a dead worker's chunks; <see cref="PoolTimer"/>
    /// runs timeouts, idle retirement and partial chunks; <see cref="PoolEvents"/> queues events and delivers them.
    /// One lock, <see cref="Gate"/>, guards the state of all of them (workers, maps, the ready queue, each worker's
    /// scheduling fields); a map's own lock may be taken inside it, never the reverse. Every <c>*Locked</c> member
    /// asserts it. No exception escapes a thread the engine owns (timer, reader, writer, stderr reader, event
    /// delivery): it breaks the pool through <see cref="Fault"/>.
    /// </summary>
    public sealed class WorkerPool : IDisposable
    {
        private readonly PoolOptions _options;
        private readonly IReadOnlyList<WorkerGroup> _groups;
        private readonly object _gate = new object();
        private readonly List<WorkerProcess> _workers = new List<WorkerProcess>();
        private readonly List<MapRun> _maps = new List<MapRun>();
        private PoolState _state = PoolState.Running;
        private Exception? _brokenBy;
        /// <summary>The pool broke because workers kept failing to start for a cause that may pass (start timeouts,
        /// exits before hello, every host left out): the next map tries again instead of failing at once.</summary>
        private bool _brokenTransient;
        private int _nextMapId;
        private long _itemsCompleted, _workersLost, _workersRecycled;

        /// <summary>Creates the pool and, unless <see cref="PoolOptions.StartEagerly"/> is false, starts its workers in parallel.</summary>
        public WorkerPool(PoolOptions options)
        {
            options.Validate();
            _options = options;
            _groups = options.Groups.Count > 0 ? options.Groups : new[] { new WorkerGroup(options.Launch, options.Size) };
            Events = new PoolEvents(this);
            Dispatcher = new Dispatcher(this);
            Starts = new WorkerStarts(this);
            Timer = new PoolTimer(this);
            if (options.StartEagerly)
            {
                lock (_gate)
                {
                    Starts.EnsureWorkersLocked(force: true);
                    Timer.RearmLocked();
                }
            }
        }

        /// <summary>The pool's lock: guards workers, the ready queue, maps, and each worker's scheduling fields.</summary>
        internal object Gate => _gate;

        internal PoolEvents Events { get; }
        internal Dispatcher Dispatcher { get; }
        internal WorkerStarts Starts { get; }
        internal PoolTimer Timer { get; }

        /// <summary>The workers alive or starting. Under <see cref="Gate"/>.</summary>
        internal List<WorkerProcess> Workers
        {
            get
            {
                Debug.Assert(Monitor.IsEntered(_gate));
                return _workers;
            }
        }

        /// <summary>The maps running. Under <see cref="Gate"/>.</summary>
        internal List<MapRun> Maps
        {
            get
            {
                Debug.Assert(Monitor.IsEntered(_gate));
                return _maps;
            }
        }

        internal IReadOnlyList<WorkerGroup> Groups => _groups;

        internal PoolState StateLocked
        {
            get
            {
                Debug.Assert(Monitor.IsEntered(_gate));
                return _state;
            }
        }

        /// <summary>Running or closing: workers are kept and chunks handed out.</summary>
        internal bool IsAcceptingWorkLocked => StateLocked == PoolState.Running || _state == PoolState.Closing;

        /// <summary>Raised on an engine thread for every worker event; handlers must be quick and must not block.</summary>
        public event EventHandler<PoolEvent>? EventRaised;

        internal EventHandler<PoolEvent>? EventHandlers => EventRaised;

        /// <summary>The pool's name.</summary>
        public string Name => _options.Name;

        /// <summary>The number of workers the pool keeps: the sum of its groups' sizes (a remote host sized by its processor count grows when its first worker says hello).</summary>
        public int Size
        {
            get { lock (_gate) return SizeLocked; }
        }

        internal int SizeLocked
        {
            get
            {
                Debug.Assert(Monitor.IsEntered(_gate));
                int size = 0;
                foreach (var group in _groups) size += group.Size;
                return size;
            }
        }

        /// <summary>The pool's settings.</summary>
        public PoolOptions Options => _options;

        /// <summary>True when some workers run on other hosts (through ssh): payloads must carry the files they name (<see cref="MapOptions.Files"/>).</summary>
        public bool HasRemoteHosts => _groups.Any(g => g.IsRemote);

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
            get { lock (_gate) return Timer.IsArmedLocked; }
        }

        /// <summary>A test's way to make the timer thread fail, as a bug in it would.</summary>
        internal Action? TickHook
        {
            get => Timer.TickHook;
            set => Timer.TickHook = value;
        }

        /// <summary>Process ids of every worker this pool ever started, for leak checks.</summary>
        public IReadOnlyList<int> GetAllStartedProcessIds()
        {
            lock (_gate) return Starts.EverStartedLocked();
        }

        /// <summary>Counters and worker states now.</summary>
        public PoolStats GetStats()
        {
            lock (_gate)
            {
                int live = _workers.Count(w => w.State == WorkerState.Starting || w.State == WorkerState.Ready);
                // A worker killed while starting and waiting out its backoff is still starting, as far as callers go.
                int starting = _workers.Count(w => w.State == WorkerState.Starting) + Math.Max(0, Math.Min(Starts.PendingRestartsLocked, SizeLocked - live));
                int busy = _workers.Count(w => w.State != WorkerState.Starting && w.InFlight.Count > 0);
                int idle = _workers.Count(w => w.State == WorkerState.Ready && w.InFlight.Count == 0);
                return new PoolStats(_state, SizeLocked, starting, busy, idle, _itemsCompleted, Starts.Started, _workersLost, _workersRecycled, _maps.Count);
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
            return new HostStats(group.HostName, group.Size, starting, busy, idle, group.ItemsCompleted, group.WorkersLost, state, group.LastError, group.ProcessorCount);
        }

        /// <summary>Blocks until <paramref name="count"/> workers are ready (default: all); false on timeout. Throws when the pool is broken.</summary>
        public bool WaitForWorkers(TimeSpan timeout, int? count = null)
        {
            var deadline = Stopwatch.StartNew();
            lock (_gate)
            {
                while (true)
                {
                    if (_state == PoolState.Broken) throw Broken();
                    int wanted = count ?? SizeLocked;
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
        public int MaxItemBytes => MaxOutboundFrameBytes - Protocol.ChunkMessage.HeaderBytes - Protocol.ChunkMessage.ItemOverheadBytes;

        /// <summary>Starts a map; submit items to the returned handle and take results from it.</summary>
        /// <exception cref="MapDefinitionException">The map's definition does not fit in a frame to a worker.</exception>
        public MapRun StartMap(MapOptions options)
        {
            options.Validate();
            long defineBytes = DefineMessage.BodyLength(options.PayloadKind, options.PayloadDefinition);
            if (defineBytes > MaxOutboundFrameBytes)
                throw new MapDefinitionException(
                    $"The map's definition is {defineBytes} bytes once serialized; a message to a worker holds at most {MaxOutboundFrameBytes} bytes. " +
                    "Pass large data as input items or read it from a file in the worker.");
            foreach (var file in options.Files)
                if (file.Length + 1024 + System.Text.Encoding.UTF8.GetByteCount(file.Path) > MaxOutboundFrameBytes)
                    throw new MapDefinitionException($"The file '{file.Path}' ({file.Length} bytes) does not fit in a message to a remote worker ({MaxOutboundFrameBytes} bytes at most).");
            MapRun map;
            lock (_gate)
            {
                if (_state == PoolState.Broken && _brokenTransient) RecoverLocked();
                ThrowIfNotRunningLocked();
                Starts.RetryHostsLocked();
                map = new MapRun(this, ++_nextMapId, options, SizeLocked, _options.MaxTasksPerWorker);
                _maps.Add(map);
                Starts.EnsureWorkersLocked();
                Timer.RearmLocked();
            }
            Events.Flush();
            return map;
        }

        /// <summary>A pool broken by a cause that may pass gets a fresh start: counters cleared, workers started again.</summary>
        private void RecoverLocked()
        {
            Debug.Assert(Monitor.IsEntered(_gate));
            Events.Raise(PoolEventKind.PoolRecovered, null, $"The pool '{Name}' tries again to start workers (it broke because: {_brokenBy?.Message}).");
            _state = PoolState.Running;
            _brokenBy = null;
            _brokenTransient = false;
            Starts.ResetLocked();
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
                Dispatcher.ClearLocked();
                Timer.StopLocked();
            }
            Timer.Dispose();
            Events.Flush();
        }

        // ---- called by maps ----------------------------------------------------------------------

        /// <summary>A map has a full chunk's worth of open items, or its input ended: a worker with room takes a chunk now.</summary>
        internal void OnWorkOpened()
        {
            lock (_gate)
            {
                if (_state != PoolState.Running && _state != PoolState.Closing) return;
                Starts.EnsureWorkersLocked();
                Dispatcher.DispatchLocked();
            }
            Events.Flush();
        }

        /// <summary>Puts chunks back ahead of new work: they are older, and ordered output waits on them.</summary>
        internal void Requeue(IEnumerable<Chunk> chunks)
        {
            lock (_gate)
            {
                Dispatcher.RequeueLocked(chunks);
                Starts.EnsureWorkersLocked();
                Dispatcher.DispatchLocked();
            }
            Events.Flush();
        }

        internal void OnMapStopped(MapRun map)
        {
            var kill = new List<WorkerProcess>();
            lock (_gate)
            {
                _maps.Remove(map);
                Dispatcher.RemoveLocked(map);
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
            if (hello.ProcessorCount > 0)
            {
                lock (_gate) OnHostProcessorCountLocked(worker, hello.ProcessorCount);
                Events.Flush();
            }
            worker.SendSetup(new SetupMessage(worker.Id, (int)_options.HeartbeatInterval.TotalMilliseconds, new Dictionary<string, byte[]>(_options.RunnerSetup),
                _options.MaxWorkerMemoryBytes ?? 0));
        }

        /// <summary>
        /// A worker's hello gave its machine's processor count. A group sized by its host takes that size from the first
        /// hello (its other workers start now if the pool starts eagerly, else when work comes).
        /// </summary>
        private void OnHostProcessorCountLocked(WorkerProcess worker, int processorCount)
        {
            Debug.Assert(Monitor.IsEntered(_gate));
            var group = worker.Group;
            group.ProcessorCount = processorCount;
            if (!group.SizedByHostPending) return;
            group.SizedByHostPending = false;
            group.Size = Math.Max(1, Math.Min(processorCount, WorkerGroup.MaxHostSize));
            Events.Raise(PoolEventKind.WorkerStarting, worker, $"{group.HostName} has {processorCount} processors: the pool keeps {group.Size} workers there.");
            Starts.EnsureWorkersLocked(force: _options.StartEagerly);
            Timer.RearmLocked();
        }

        internal void OnReady(WorkerProcess worker)
        {
            lock (_gate)
            {
                if (worker.State != WorkerState.Starting) return;
                worker.State = WorkerState.Ready;
                worker.LastActivityTicks = Stopwatch.GetTimestamp();
                Starts.OnReadyLocked(worker);
                Events.Raise(PoolEventKind.WorkerReady, worker, $"{worker.Describe()} is ready ({Elapsed(worker.StartedTicks)} ms after launch).");
                Monitor.PulseAll(_gate);
                Dispatcher.DispatchLocked();
                Timer.RearmLocked();
            }
            Events.Flush();
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
                    Dispatcher.RequeueLocked(worker.InFlight);
                    worker.InFlight.Clear();
                }
                if (worker.State == WorkerState.Retiring && worker.InFlight.Count == 0) worker.SendShutdown();
                // Measured before dispatching, so the next chunk cut for this worker already has the new size.
                chunk.Map.Sizer.Observe(chunk.Count, micros);
                Starts.EnsureWorkersLocked();
                Dispatcher.DispatchLocked();
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
            Events.Flush();
        }

        internal void OnDefineFailed(int mapId, ErrorInfo error)
        {
            MapRun? map;
            lock (_gate) map = _maps.FirstOrDefault(m => m.Id == mapId);
            map?.Stop(new MapDefinitionException($"The workers could not prepare the map: {error.Message}", error.Type));
        }

        /// <summary>Called on a worker's stderr thread: a subscriber that throws breaks the pool (<see cref="Fault"/>), like one that throws on any other event.</summary>
        internal void OnWorkerOutput(WorkerProcess worker, string line) =>
            Events.Deliver(new PoolEvent(PoolEventKind.WorkerOutput, worker.Id, worker.ProcessId, $"{worker.Describe()}: {line}"));

        internal void OnWorkerGone(WorkerProcess worker, Exception? failure, int? exitCode, int? signal)
        {
            List<Chunk> lost;
            KillReason kill;
            long timedOut;
            lock (_gate)
            {
                var state = worker.State;
                // Read once, with the state: from here on nothing may change why this worker died.
                kill = worker.Kill;
                timedOut = worker.TimedOutSequence;
                worker.State = WorkerState.Gone;
                _workers.Remove(worker);
                lost = worker.InFlight.ToList();
                worker.InFlight.Clear();
                if (state == WorkerState.Starting)
                    Starts.OnStartFailedLocked(worker, failure, kill, exitCode, signal);
                else if (state == WorkerState.Retiring && lost.Count == 0 && kill == KillReason.None)
                {
                    Events.Raise(PoolEventKind.WorkerExited, worker, $"{worker.Describe()} exited ({worker.RetireReason}).");
                    if (worker.FinalizerError is ErrorInfo finalizer)
                        Events.Raise(PoolEventKind.FinalizerFailed, worker, $"{worker.Describe()}: its finalizer failed when it was retired ({worker.RetireReason}): {finalizer}");
                }
                else if (kill == KillReason.ShutdownTimeout)
                {
                    Events.Raise(PoolEventKind.FinalizerFailed, worker, $"{worker.Describe()} did not exit within {_options.ShutdownTimeout.TotalSeconds:0.###} s of its shutdown ({worker.RetireReason}); its finalizer was still running, and it was killed.");
                }
                else if (kill != KillReason.Terminated && kill != KillReason.Cancelled)
                {
                    _workersLost++;
                    worker.Group.WorkersLost++;
                    string cause = failure is ProtocolException ? $"protocol error: {failure.Message}" : DescribeExit(exitCode, signal);
                    Events.Raise(PoolEventKind.WorkerLost, worker, $"{worker.Describe()} was lost ({cause}); {lost.Sum(c => c.Count - c.NextIndex)} unfinished items are rescheduled.");
                }
                Monitor.PulseAll(_gate);
            }

            var requeue = CrashBlame.Requeue(worker, lost, kill, timedOut, failure, exitCode, signal);
            lock (_gate)
            {
                Dispatcher.RequeueLocked(requeue);
                Starts.EnsureWorkersLocked();
                Dispatcher.DispatchLocked();
                Timer.RearmLocked();
            }
            Events.Flush();
        }

        internal void RetireLocked(WorkerProcess worker, string reason)
        {
            Debug.Assert(Monitor.IsEntered(_gate));
            worker.State = WorkerState.Retiring;
            worker.RetireReason = reason;
            _workersRecycled++;
            Events.Raise(PoolEventKind.WorkerRecycled, worker, $"{worker.Describe()} is recycled: {reason}.");
        }

        internal void BreakLocked(Exception cause, bool transient)
        {
            Debug.Assert(Monitor.IsEntered(_gate));
            _state = PoolState.Broken;
            _brokenBy = cause;
            _brokenTransient = transient;
            Events.Raise(PoolEventKind.PoolBroken, null, $"The pool '{Name}' is broken: {cause.Message}");
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
                ThreadPool.QueueUserWorkItem(_ => Events.Flush());
            }
            catch (Exception)
            {
                // Nothing more can be done on this thread; above all it must not end the process.
            }
        }

        internal static long Elapsed(long sinceTicks) => (Stopwatch.GetTimestamp() - sinceTicks) * 1000 / Stopwatch.Frequency;

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
