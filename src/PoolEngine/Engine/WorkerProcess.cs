using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Threading;
using ProcessPool.Engine.Protocol;

namespace ProcessPool.Engine
{
    internal enum WorkerState { Starting, Ready, Retiring, Gone }

    internal enum KillReason { None, StartTimeout, ItemTimeout, Cancelled, Terminated, ProtocolError, ShutdownTimeout }

    /// <summary>
    /// One worker process as the parent sees it. Three threads serve it: a writer that drains <c>_outbox</c> into the
    /// worker's stdin, a reader that turns its stdout frames into pool callbacks, and a stderr reader that relays its
    /// console output as lines of bounded length (<see cref="OutputLines"/>). The process and its streams are a
    /// transport (<see cref="Transport.IWorkerTransport"/>): a local child, or an ssh child reaching a worker on another host.
    /// Scheduling fields (<see cref="State"/>, <see cref="InFlight"/>, <see cref="Kill"/>, <see cref="TimedOutSequence"/>)
    /// are guarded by the pool's lock (<see cref="WorkerPool.Gate"/>); no exception escapes the threads this class starts.
    /// </summary>
    internal sealed class WorkerProcess
    {
        private readonly WorkerPool _pool;
        private readonly PoolOptions _options;
        private readonly BlockingCollection<Outgoing> _outbox = new BlockingCollection<Outgoing>();
        private readonly HashSet<int> _definedMaps = new HashSet<int>();
        /// <summary>Files offered to this (remote) worker, as hash and path: each is offered once. Writer thread only.</summary>
        private readonly HashSet<string> _offeredFiles = new HashSet<string>(StringComparer.Ordinal);
        /// <summary>The offered files by hash, for the reader to answer FileNeeded.</summary>
        private readonly ConcurrentDictionary<string, ShippedFile> _filesByHash = new ConcurrentDictionary<string, ShippedFile>(StringComparer.Ordinal);
        private volatile Transport.IWorkerTransport? _transport;
        private long _currentItemStartTicks;
        /// <summary>Unix: the worker said hello as the leader of its own process group, so its leftovers can be found by group. Reader thread only.</summary>
        private bool _leadsGroup;

        public WorkerProcess(WorkerPool pool, PoolOptions options, int id, WorkerGroup group)
        {
            _pool = pool;
            _options = options;
            Id = id;
            Group = group;
            StartedTicks = LastActivityTicks = Stopwatch.GetTimestamp();
        }

        public int Id { get; }
        public WorkerGroup Group { get; }
        /// <summary>The worker's own pid as its hello gave it: on a remote host, not the local ssh's.</summary>
        public int RemoteProcessId { get; set; }
        public int ProcessId { get; private set; }
        public WorkerState State { get; set; } = WorkerState.Starting;
        public Queue<Chunk> InFlight { get; } = new Queue<Chunk>();
        public long StartedTicks { get; }
        public long LastActivityTicks { get; set; }
        public long ItemsDone { get; set; }
        public long WorkingSet { get; set; }
        /// <summary>Why the pool killed this worker (None: it did not); set once, under the pool's lock.</summary>
        public KillReason Kill { get; private set; }
        /// <summary>With <see cref="KillReason.ItemTimeout"/>, the item that ran too long; under the pool's lock.</summary>
        public long TimedOutSequence { get; private set; } = -1;
        public string? RetireReason { get; set; }

        /// <summary>When the Shutdown frame was posted (0: not yet); the pool kills a worker still alive <see cref="PoolOptions.ShutdownTimeout"/> later.</summary>
        public long ShutdownSentTicks { get; private set; }

        /// <summary>What the worker's finalizer threw during its clean exit, when it did.</summary>
        public ErrorInfo? FinalizerError { get; private set; }
        /// <summary>Maps this worker was sent a chunk of (its first one acknowledges its start). Guarded by the pool's lock.</summary>
        public HashSet<int> SentMaps { get; } = new HashSet<int>();

        /// <summary>Maps this worker has finished a chunk of: its code for them is loaded and compiled. Guarded by the pool's lock.</summary>
        public HashSet<int> WarmMaps { get; } = new HashSet<int>();

        /// <summary>When the item now running started, as far as the parent can tell: the later of its chunk's dispatch and the last result.</summary>
        public long CurrentItemStartTicks
        {
            get => Interlocked.Read(ref _currentItemStartTicks);
            set => Interlocked.Exchange(ref _currentItemStartTicks, value);
        }

        public string Describe() =>
            !Group.IsRemote ? (ProcessId > 0 ? $"worker {Id} (pid {ProcessId})" : $"worker {Id}")
            : RemoteProcessId > 0 ? $"worker {Id} on {Group.HostName} (pid {RemoteProcessId} there, ssh pid {ProcessId})"
            : ProcessId > 0 ? $"worker {Id} on {Group.HostName} (ssh pid {ProcessId})" : $"worker {Id} on {Group.HostName}";

        /// <summary>Launches the process and its I/O threads; throws when the executable cannot be started.</summary>
        public void Start()
        {
            var transport = Group.Launch.CreateTransport(line => _pool.OnWorkerOutput(this, line),
                error => _pool.Fault(error, $"the stderr reader of {Describe()}"));
            transport.Start();
            _transport = transport;
            ProcessId = transport.ProcessId;
            new Thread(WriteLoop) { IsBackground = true, Name = $"ProcessPool writer {Id}" }.Start();
            new Thread(ReadLoop) { IsBackground = true, Name = $"ProcessPool reader {Id}" }.Start();
        }

        public void SendSetup(SetupMessage setup) => Post(new Outgoing(setup));
        public void SendChunk(Chunk chunk) => Post(new Outgoing(chunk));
        public void SendRelease(int mapId) => Post(new Outgoing(mapId));
        public void SendShutdown()
        {
            if (ShutdownSentTicks == 0) ShutdownSentTicks = Stopwatch.GetTimestamp();
            Post(Outgoing.Shutdown);
        }

        private void Post(Outgoing message)
        {
            try { _outbox.Add(message); }
            catch (InvalidOperationException) { /* the writer has stopped: the worker is going away */ }
        }

        /// <summary>
        /// Kills the worker's whole process tree, remembering why so that its death is not blamed on an item. Any
        /// thread may call it: the reason is recorded under the pool's lock (the first reason wins, and none is
        /// recorded once the worker is gone), the slow kill itself runs outside it.
        /// </summary>
        public void KillTree(KillReason reason, long timedOutSequence = -1)
        {
            lock (_pool.Gate) MarkKilledLocked(reason, timedOutSequence);
            _transport?.Kill();
        }

        private void MarkKilledLocked(KillReason reason, long timedOutSequence)
        {
            Debug.Assert(Monitor.IsEntered(_pool.Gate));
            if (Kill != KillReason.None || State == WorkerState.Gone) return;
            Kill = reason;
            TimedOutSequence = timedOutSequence;
        }

        private void WriteLoop()
        {
            var stream = new BufferedStream(_transport!.ToWorker, 64 * 1024);
            var writer = new FrameWriter(stream);
            var body = new ByteBuffer();
            try
            {
                foreach (var message in _outbox.GetConsumingEnumerable())
                {
                    if (message.Setup != null)
                    {
                        OfferFiles(writer, body, _options.SetupFiles);
                        body.Clear();
                        message.Setup.WriteTo(body);
                        writer.Write(FrameType.Setup, body);
                    }
                    else if (message.Chunk != null)
                    {
                        WriteChunk(writer, body, message.Chunk);
                    }
                    else if (message.File != null)
                    {
                        body.Clear();
                        new FileDataMessage(message.File.Hash, message.File.Bytes).WriteTo(body);
                        writer.Write(FrameType.FileData, body);
                    }
                    else if (message.IsShutdown)
                    {
                        writer.WriteEmpty(FrameType.Shutdown);
                        writer.Flush();
                        _outbox.CompleteAdding();
                        return;
                    }
                    else if (_definedMaps.Remove(message.ReleaseMapId))
                    {
                        body.Clear();
                        new ReleaseMessage(message.ReleaseMapId).WriteTo(body);
                        writer.Write(FrameType.Release, body);
                    }
                    if (_outbox.Count == 0) writer.Flush();
                }
            }
            catch (Exception error) when (error is IOException || error is ObjectDisposedException || error is InvalidOperationException)
            {
                // The worker went away; the reader sees it and reports why.
            }
            catch (Exception error)
            {
                _pool.Fault(error, $"the writer thread of {Describe()}");
                KillTree(KillReason.Terminated);
            }
        }

        private void WriteChunk(FrameWriter writer, ByteBuffer body, Chunk chunk)
        {
            var map = chunk.Map;
            if (_definedMaps.Add(map.Id))
            {
                OfferFiles(writer, body, map.Options.Files);
                body.Clear();
                new DefineMessage(map.Id, map.Options.PayloadKind, map.Options.PayloadDefinition).WriteTo(body);
                writer.Write(FrameType.Define, body);
            }
            new ChunkMessage(map.Id, chunk.Id, chunk.Isolated ? ChunkFlags.Isolated : (byte)0, chunk.Count).WriteFrame(writer, body, chunk.Items);
        }

        /// <summary>
        /// A remote worker cannot read the caller's paths: each file a payload names is offered before the frame that
        /// names it (once per worker); the worker uses its cached copy or asks for the bytes (<see cref="ShippedFile"/>).
        /// </summary>
        private void OfferFiles(FrameWriter writer, ByteBuffer body, IList<ShippedFile> files)
        {
            if (!Group.IsRemote) return;
            foreach (var file in files)
            {
                if (!_offeredFiles.Add(file.HashHex + "|" + file.Path)) continue;
                _filesByHash.TryAdd(file.HashHex, file);
                body.Clear();
                FileOfferMessage.For(file).WriteTo(body);
                writer.Write(FrameType.FileOffer, body);
            }
        }

        /// <summary>The worker has no intact copy of an offered file: its bytes go out behind what is queued (the worker keeps those frames until they arrive).</summary>
        private void OnFileNeeded(ref BodyReader body)
        {
            var needed = FileNeededMessage.ReadFrom(ref body);
            if (!_filesByHash.TryGetValue(ShippedFile.ToHex(needed.Hash), out var file))
                throw new ProtocolException("The worker asked for a file it was not offered.");
            Post(new Outgoing(file));
        }

        private void ReadLoop()
        {
            Exception? failure = null;
            try
            {
                _transport!.Connect();
                var frames = new FrameReader(new BufferedStream(_transport.FromWorker, 64 * 1024), _options.MaxFrameBytes);
                Handshake(frames);
                Serve(frames);
            }
            catch (Exception error) when (error is ProtocolException || error is WorkerSetupFailure || error is IOException || error is ObjectDisposedException)
            {
                failure = error;
                // A worker that sends garbage is killed; one whose stream merely ended is going already, and how it
                // ends (a signal from outside, an exit code) is the better account of it.
                if (error is ProtocolException protocol && !protocol.StreamEnded) KillTree(KillReason.ProtocolError);
            }
            catch (Exception error)
            {
                // Not the worker's doing: a fault in the engine (or a callback it runs) on this thread.
                failure = error;
                _pool.Fault(error, $"the reader thread of {Describe()}");
                KillTree(KillReason.Terminated);
            }
            finally
            {
                try
                {
                    _outbox.CompleteAdding();
                    var (exitCode, signal) = AwaitExit();
                    // A start that failed gets the transport's explanation (ssh's message, the last stderr lines); a failure
                    // that was not a garbled stream stays one, so it is classified (outside kill, transient) as before.
                    if (State == WorkerState.Starting && failure is not WorkerSetupFailure && _transport?.ExplainEnd(exitCode, signal) is string why)
                        failure = new ProtocolException((failure?.Message ?? $"It exited during start ({WorkerPool.DescribeExit(exitCode, signal)}).") + " " + why, failure,
                            streamEnded: failure is not ProtocolException { StreamEnded: false });
                    EndLeftovers();
                    _pool.OnWorkerGone(this, failure, exitCode, signal);
                }
                catch (Exception error)
                {
                    _pool.Fault(error, $"the reader thread of {Describe()}");
                }
                finally
                {
                    _transport?.Dispose();
                }
            }
        }

        private void Handshake(FrameReader frames)
        {
            FrameType type;
            BodyReader body;
            try
            {
                if (!frames.TryRead(out type, out body))
                    throw new ProtocolException("Handshake failed: the worker exited before it said hello.", streamEnded: true);
            }
            catch (ProtocolException error) when (!error.StreamEnded && !error.Message.StartsWith("Handshake", StringComparison.Ordinal))
            {
                throw new ProtocolException($"Handshake failed: the worker's output is not a ProcessPool hello; is '{Group.Launch.FileName}' a ProcessPool worker? ({error.Message})", error);
            }
            if (type != FrameType.Hello)
                throw new ProtocolException($"Handshake failed: the worker's first frame was {type}, not Hello.");
            var hello = HelloMessage.ReadFrom(ref body);
            // The worker made itself a group leader before it said hello, and it is alive now: the group is its own.
            _leadsGroup = _transport?.HostName == null && ProcessTree.LeadsOwnGroup(ProcessId); // a local worker: an ssh client leads nothing
            _pool.OnHello(this, hello);
            do
            {
                if (!frames.TryRead(out type, out body))
                    throw new ProtocolException("The worker exited during setup.", streamEnded: true);
                if (type == FrameType.FileNeeded) OnFileNeeded(ref body);
            }
            while (type == FrameType.FileNeeded);
            if (type == FrameType.SetupFailed)
            {
                var error = ErrorInfo.ReadFrom(ref body);
                throw new WorkerSetupFailure($"The worker's initializer failed: {error}", error.ToException());
            }
            if (type != FrameType.Ready)
                throw new ProtocolException($"Expected Ready after setup, received {type}.");
            _pool.OnReady(this);
        }

        private void Serve(FrameReader frames)
        {
            Chunk? current = null;
            while (frames.TryRead(out var type, out var body))
            {
                // A heartbeat is not activity: an idle worker that only says it is alive must still reach its idle timeout.
                if (type != FrameType.Heartbeat) LastActivityTicks = Stopwatch.GetTimestamp();
                switch (type)
                {
                    case FrameType.ItemsDone:
                        current = OnItemsDone(ref body, current);
                        break;
                    case FrameType.ItemRecords:
                        current = OnItemRecords(ref body, current);
                        break;
                    case FrameType.ChunkDone:
                        var done = ChunkDoneMessage.ReadFrom(ref body);
                        if (current == null || current.Id != done.ChunkId) current = _pool.PeekInFlight(this);
                        if (current == null || current.Id != done.ChunkId || current.NextIndex != current.Count)
                            throw new ProtocolException($"ChunkDone for chunk {done.ChunkId} does not match the chunk in progress.");
                        _pool.OnChunkDone(this, current, done.Micros, done.WorkingSet);
                        current = null;
                        break;
                    case FrameType.ChunkStarted:
                        long startedId = ChunkStartedMessage.ReadFrom(ref body).ChunkId;
                        var started = _pool.PeekInFlight(this);
                        if (started != null && started.Id == startedId)
                        {
                            started.Started = true;
                            if (started.NextIndex == 0) CurrentItemStartTicks = Stopwatch.GetTimestamp();
                        }
                        break;
                    case FrameType.Heartbeat:
                        WorkingSet = HeartbeatMessage.ReadFrom(ref body).WorkingSet;
                        break;
                    case FrameType.FinalizerFailed:
                        FinalizerError = ErrorInfo.ReadFrom(ref body);
                        break;
                    case FrameType.FileNeeded:
                        OnFileNeeded(ref body);
                        break;
                    case FrameType.DefineFailed:
                        var failed = DefineFailedMessage.ReadFrom(ref body);
                        _pool.OnDefineFailed(failed.MapId, failed.Error);
                        break;
                    default:
                        throw new ProtocolException($"A worker may not send {type} frames.");
                }
            }
        }

        private readonly List<CompletedItem> _successes = new List<CompletedItem>();

        /// <summary>Delivers a batch of results; consecutive successes of one chunk reach the map under one lock.</summary>
        private Chunk? OnItemsDone(ref BodyReader body, Chunk? current)
        {
            int count = ItemsDoneMessage.ReadCount(ref body);
            var now = DateTime.UtcNow;
            for (int n = 0; n < count; n++)
            {
                var entry = ItemsDoneMessage.ReadEntry(ref body);
                long chunkId = entry.ChunkId;
                int index = entry.Index;
                var error = entry.Error;

                if (current == null || current.Id != chunkId)
                {
                    DeliverSuccesses(current, now);
                    current = _pool.PeekInFlight(this);
                }
                if (current == null || current.Id != chunkId || index != current.NextIndex)
                    throw new ProtocolException($"Result for item {index} of chunk {chunkId} arrived out of order.");
                long sequence = current.Sequences[index];
                if (error == null)
                    _successes.Add(new CompletedItem(sequence, chunkId, entry.Records, entry.Micros));
                else
                {
                    DeliverSuccesses(current, now);
                    var duration = TimeSpan.FromTicks(entry.Micros * 10);
                    var retry = current.Map.ItemFailed(sequence, chunkId, current.Items[index], error.ToException(), entry.Records, Id, ProcessId, now - duration, duration, Group.HostName);
                    if (retry != null) _pool.Requeue(new[] { retry });
                }
                current.NextIndex = index + 1;
            }
            DeliverSuccesses(current, now);
            CurrentItemStartTicks = Stopwatch.GetTimestamp();
            return current;
        }

        /// <summary>
        /// Records of an item still running (it ran longer than the worker's streaming threshold). They go to the map
        /// at once; the item's timeout clock is not reset, it is still the same item. May block while the map holds
        /// its bound of undelivered records (<see cref="MapRun.ItemRecords"/>).
        /// </summary>
        private Chunk? OnItemRecords(ref BodyReader body, Chunk? current)
        {
            var (chunkId, index, records) = ItemRecordsMessage.ReadFrom(ref body);
            if (current == null || current.Id != chunkId) current = _pool.PeekInFlight(this);
            if (current == null || current.Id != chunkId || index != current.NextIndex)
                throw new ProtocolException($"Records of item {index} of chunk {chunkId} arrived out of order.");
            current.Map.ItemRecords(current.Sequences[index], chunkId, records, this);
            return current;
        }

        private void DeliverSuccesses(Chunk? chunk, DateTime now)
        {
            if (_successes.Count == 0 || chunk == null) return;
            chunk.Map.ItemsSucceeded(_successes, Id, ProcessId, now, Group.HostName);
            _successes.Clear();
        }

        /// <summary>
        /// After the worker was reaped, on every path (shutdown, recycling, crash, kill): ends whatever it started that
        /// is still running. A worker that exits by itself ends its descendants first; this covers a worker that was
        /// killed (SIGKILL, the OOM killer, Stop-Process), whose orphans the tree walk can no longer find.
        /// </summary>
        private void EndLeftovers()
        {
            if (_leadsGroup) ProcessTree.KillOrphanedGroup(ProcessId);
        }

        private (int? exitCode, int? signal) AwaitExit()
        {
            var transport = _transport;
            if (transport == null) return (null, null);
            // A worker whose stream ended is exiting; one that has not within a grace period is killed (an earlier kill reason stands).
            return transport.AwaitExit(TimeSpan.FromSeconds(2), () => KillTree(KillReason.ProtocolError));
        }

        private sealed class Outgoing
        {
            public static readonly Outgoing Shutdown = new Outgoing(isShutdown: true);

            public Outgoing(SetupMessage setup) => Setup = setup;
            public Outgoing(Chunk chunk) => Chunk = chunk;
            public Outgoing(int releaseMapId) => ReleaseMapId = releaseMapId;
            public Outgoing(ShippedFile file) => File = file;
            private Outgoing(bool isShutdown) => IsShutdown = isShutdown;

            public SetupMessage? Setup { get; }
            public Chunk? Chunk { get; }
            public ShippedFile? File { get; }
            public int ReleaseMapId { get; }
            public bool IsShutdown { get; }
        }
    }

    /// <summary>A worker's initializer failed; raised inside the engine and surfaced through <see cref="BrokenPoolException"/>.</summary>
    internal sealed class WorkerSetupFailure : PoolException
    {
        public WorkerSetupFailure(string message, Exception inner) : base(message, inner) { }
    }
}
