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

    internal enum KillReason { None, StartTimeout, ItemTimeout, Cancelled, Terminated, ProtocolError }

    /// <summary>
    /// One worker process as the parent sees it. Three threads serve it: a writer that drains <c>_outbox</c> into the
    /// worker's stdin, a reader that turns its stdout frames into pool callbacks, and the runtime's stderr reader.
    /// The process and its streams are a transport (<see cref="Transport.IWorkerTransport"/>): a local child, or an
    /// ssh child reaching a worker on another host.
    /// Scheduling fields (<see cref="State"/>, <see cref="InFlight"/>, <see cref="Kill"/>) are guarded by the pool's lock.
    /// </summary>
    internal sealed class WorkerProcess
    {
        private readonly WorkerPool _pool;
        private readonly PoolOptions _options;
        private readonly BlockingCollection<Outgoing> _outbox = new BlockingCollection<Outgoing>();
        private readonly HashSet<int> _definedMaps = new HashSet<int>();
        private Transport.IWorkerTransport? _transport;
        private long _currentItemStartTicks;

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
        public KillReason Kill { get; private set; }
        public long TimedOutSequence { get; private set; } = -1;
        public string? RetireReason { get; set; }

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
            var transport = Group.Launch.CreateTransport(line => _pool.OnWorkerOutput(this, line));
            transport.Start();
            _transport = transport;
            ProcessId = transport.ProcessId;
            new Thread(WriteLoop) { IsBackground = true, Name = $"ProcessPool writer {Id}" }.Start();
            new Thread(ReadLoop) { IsBackground = true, Name = $"ProcessPool reader {Id}" }.Start();
        }

        public void SendSetup(SetupMessage setup) => Post(new Outgoing(setup));
        public void SendChunk(Chunk chunk) => Post(new Outgoing(chunk));
        public void SendRelease(int mapId) => Post(new Outgoing(mapId));
        public void SendShutdown() => Post(Outgoing.Shutdown);

        private void Post(Outgoing message)
        {
            try { _outbox.Add(message); }
            catch (InvalidOperationException) { /* the writer has stopped: the worker is going away */ }
        }

        /// <summary>Kills the worker's whole process tree, remembering why so that its death is not blamed on an item.</summary>
        public void KillTree(KillReason reason, long timedOutSequence = -1)
        {
            if (Kill == KillReason.None)
            {
                Kill = reason;
                TimedOutSequence = timedOutSequence;
            }
            _transport?.Kill();
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
                        body.Clear();
                        message.Setup.WriteTo(body);
                        writer.Write(FrameType.Setup, body);
                    }
                    else if (message.Chunk != null)
                    {
                        WriteChunk(writer, stream, body, message.Chunk);
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
                        body.WriteInt32(message.ReleaseMapId);
                        writer.Write(FrameType.Release, body);
                    }
                    if (_outbox.Count == 0) writer.Flush();
                }
            }
            catch (Exception error) when (error is IOException || error is ObjectDisposedException || error is InvalidOperationException)
            {
                // The worker went away; the reader sees it and reports why.
            }
        }

        private void WriteChunk(FrameWriter writer, Stream stream, ByteBuffer body, Chunk chunk)
        {
            var map = chunk.Map;
            if (_definedMaps.Add(map.Id))
            {
                body.Clear();
                body.WriteInt32(map.Id);
                body.WriteString(map.Options.PayloadKind);
                body.WriteBlob(map.Options.PayloadDefinition);
                writer.Write(FrameType.Define, body);
            }
            // Items go straight from their arrays to the stream: no copy of the chunk is assembled.
            body.Clear();
            body.WriteInt32(map.Id);
            body.WriteInt64(chunk.Id);
            body.WriteByte(chunk.Isolated ? ChunkFlags.Isolated : (byte)0);
            body.WriteInt32(chunk.Count);
            int length = chunk.FrameLength();
            writer.WriteHeader(FrameType.Chunk, length);
            stream.Write(body.RawData, 0, body.Length);
            var prefix = new byte[4];
            foreach (var item in chunk.Items)
            {
                prefix[0] = (byte)item.Length;
                prefix[1] = (byte)(item.Length >> 8);
                prefix[2] = (byte)(item.Length >> 16);
                prefix[3] = (byte)(item.Length >> 24);
                stream.Write(prefix, 0, 4);
                stream.Write(item, 0, item.Length);
            }
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
            catch (Exception error)
            {
                failure = error;
                if (error is ProtocolException) KillTree(KillReason.ProtocolError);
            }
            finally
            {
                _outbox.CompleteAdding();
                var (exitCode, signal) = AwaitExit();
                if (State == WorkerState.Starting && failure is not WorkerSetupFailure && _transport?.ExplainEnd(exitCode, signal) is string why)
                    failure = new ProtocolException((failure?.Message ?? $"It exited during start ({WorkerPool.DescribeExit(exitCode, signal)}).") + " " + why, failure);
                _pool.OnWorkerGone(this, failure, exitCode, signal);
                _transport?.Dispose();
            }
        }

        private void Handshake(FrameReader frames)
        {
            FrameType type;
            BodyReader body;
            try
            {
                if (!frames.TryRead(out type, out body))
                    throw new ProtocolException("Handshake failed: the worker exited before it said hello.");
            }
            catch (ProtocolException error) when (!error.Message.StartsWith("Handshake", StringComparison.Ordinal))
            {
                throw new ProtocolException($"Handshake failed: the worker's output is not a ProcessPool hello; is '{Group.Launch.FileName}' a ProcessPool worker? ({error.Message})", error);
            }
            if (type != FrameType.Hello)
                throw new ProtocolException($"Handshake failed: the worker's first frame was {type}, not Hello.");
            var hello = HelloMessage.ReadFrom(ref body);
            _pool.OnHello(this, hello);
            if (!frames.TryRead(out type, out body))
                throw new ProtocolException("The worker exited during setup.");
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
                LastActivityTicks = Stopwatch.GetTimestamp();
                switch (type)
                {
                    case FrameType.ItemsDone:
                        current = OnItemsDone(ref body, current);
                        break;
                    case FrameType.ChunkDone:
                        long chunkId = body.ReadInt64();
                        long micros = body.ReadInt64();
                        long workingSet = body.ReadInt64();
                        if (current == null || current.Id != chunkId) current = _pool.PeekInFlight(this);
                        if (current == null || current.Id != chunkId || current.NextIndex != current.Count)
                            throw new ProtocolException($"ChunkDone for chunk {chunkId} does not match the chunk in progress.");
                        _pool.OnChunkDone(this, current, micros, workingSet);
                        current = null;
                        break;
                    case FrameType.ChunkStarted:
                        long startedId = body.ReadInt64();
                        var started = _pool.PeekInFlight(this);
                        if (started != null && started.Id == startedId) started.Started = true;
                        break;
                    case FrameType.Heartbeat:
                        WorkingSet = body.ReadInt64();
                        break;
                    case FrameType.DefineFailed:
                        int mapId = body.ReadInt32();
                        var error = ErrorInfo.ReadFrom(ref body);
                        _pool.OnDefineFailed(mapId, error);
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
            int count = body.ReadCount(16);
            var now = DateTime.UtcNow;
            for (int n = 0; n < count; n++)
            {
                long chunkId = body.ReadInt64();
                int index = body.ReadInt32();
                long micros = body.ReadInt64();
                int recordCount = body.ReadCount(5);
                var records = recordCount == 0 ? Array.Empty<OutputRecord>() : new OutputRecord[recordCount];
                for (int i = 0; i < recordCount; i++)
                {
                    var kind = (RecordKind)body.ReadByte();
                    if (kind > RecordKind.Progress) throw new ProtocolException($"Unknown record kind {(int)kind}.");
                    records[i] = new OutputRecord(kind, body.ReadBlob() ?? Array.Empty<byte>());
                }
                ErrorInfo? error = body.ReadByte() == 0 ? null : ErrorInfo.ReadFrom(ref body);

                if (current == null || current.Id != chunkId)
                {
                    DeliverSuccesses(current, now);
                    current = _pool.PeekInFlight(this);
                }
                if (current == null || current.Id != chunkId || index != current.NextIndex)
                    throw new ProtocolException($"Result for item {index} of chunk {chunkId} arrived out of order.");
                long sequence = current.Sequences[index];
                if (error == null)
                    _successes.Add(new CompletedItem(sequence, records, micros));
                else
                {
                    DeliverSuccesses(current, now);
                    var duration = TimeSpan.FromTicks(micros * 10);
                    var retry = current.Map.ItemFailed(sequence, current.Items[index], error.ToException(), records, Id, ProcessId, now - duration, duration, Group.HostName);
                    if (retry != null) _pool.Requeue(new[] { retry });
                }
                current.NextIndex = index + 1;
            }
            DeliverSuccesses(current, now);
            CurrentItemStartTicks = Stopwatch.GetTimestamp();
            return current;
        }

        private void DeliverSuccesses(Chunk? chunk, DateTime now)
        {
            if (_successes.Count == 0 || chunk == null) return;
            chunk.Map.ItemsSucceeded(_successes, Id, ProcessId, now, Group.HostName);
            _successes.Clear();
        }

        private (int? exitCode, int? signal) AwaitExit()
        {
            var transport = _transport;
            if (transport == null) return (null, null);
            return transport.AwaitExit(TimeSpan.FromSeconds(2), () => KillTree(Kill == KillReason.None ? KillReason.ProtocolError : Kill));
        }

        private sealed class Outgoing
        {
            public static readonly Outgoing Shutdown = new Outgoing(isShutdown: true);

            public Outgoing(SetupMessage setup) => Setup = setup;
            public Outgoing(Chunk chunk) => Chunk = chunk;
            public Outgoing(int releaseMapId) => ReleaseMapId = releaseMapId;
            private Outgoing(bool isShutdown) => IsShutdown = isShutdown;

            public SetupMessage? Setup { get; }
            public Chunk? Chunk { get; }
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
