using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Threading;
using ProcessPool.Engine.Protocol;

namespace ProcessPool.Engine.Worker
{
    /// <summary>
    /// The loop inside a worker process. A reader thread turns frames from the parent into a queue; the main thread
    /// (the one that called <see cref="Run"/>, which a PowerShell runspace may require) runs setup, definitions and
    /// chunks in the order they arrive and sends results back. The parent bounds the queue: it sends a worker only a
    /// few chunks ahead.
    /// </summary>
    internal sealed class WorkerLoop
    {
        private readonly Stream _input;
        private readonly ProtocolChannel _channel;
        private readonly IReadOnlyDictionary<string, Func<IPayloadRunner>> _factories;
        private readonly Dictionary<string, IPayloadRunner> _runners = new Dictionary<string, IPayloadRunner>();
        private readonly Dictionary<int, IMapExecutor?> _maps = new Dictionary<int, IMapExecutor?>();
        private readonly Dictionary<int, ErrorInfo> _failedMaps = new Dictionary<int, ErrorInfo>();
        private readonly BlockingCollection<(FrameType Type, byte[] Body)> _inbox = new BlockingCollection<(FrameType, byte[])>();
        /// <summary>Frames that arrived while a file offer waited for its bytes: handled, in order, before the inbox.</summary>
        private readonly Queue<(FrameType Type, byte[] Body)> _deferred = new Queue<(FrameType, byte[])>();
        private readonly Action<int> _exit;
        private ResultPulse? _pulse;
        private readonly HashSet<int> _startedMaps = new HashSet<int>();
        private long _maxWorkingSet;
        /// <summary>Set when a chunk left the working set over the ceiling: queued chunks are skipped (the parent, which
        /// reads the same figure in ChunkDone, re-queues them elsewhere) until the parent's Shutdown arrives.</summary>
        private bool _retiring;

        public WorkerLoop(Stream input, Stream output, IReadOnlyDictionary<string, Func<IPayloadRunner>> factories, Action<int>? exit = null)
        {
            _input = input;
            _channel = new ProtocolChannel(output);
            _factories = factories;
            _exit = exit ?? (code => Environment.Exit(code));
        }

        /// <summary>Runs until the parent says Shutdown (returns 0) or disappears (the process exits).</summary>
        public int Run()
        {
            _channel.SendHello(new HelloMessage(ProtocolConstants.Version, Process.GetCurrentProcess().Id,
                new List<string>(_factories.Keys), System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription, Environment.ProcessorCount));
            var reader = new Thread(ReadFrames) { IsBackground = true, Name = "ProcessPool worker reader" };
            reader.Start();
            ParentWatch.Start(() => _exit(ExitCodes.ParentGone));

            while (TryNextFrame(out var type, out var body))
            {
                var reader2 = new BodyReader(body, 0, body.Length);
                switch (type)
                {
                    case FrameType.FileOffer:
                        OnFileOffer(FileOfferMessage.ReadFrom(ref reader2));
                        break;
                    case FrameType.Setup:
                        if (!Setup(SetupMessage.ReadFrom(ref reader2))) return ExitCodes.SetupFailed;
                        break;
                    case FrameType.Define:
                        if (!_retiring) Define(ref reader2);
                        break;
                    case FrameType.Chunk:
                        if (_retiring) break;
                        _pulse?.Busy();
                        RunChunk(ref reader2);
                        break;
                    case FrameType.Release:
                        Release(ReleaseMessage.ReadFrom(ref reader2).MapId);
                        break;
                    case FrameType.Shutdown:
                        Shutdown();
                        return 0;
                    default:
                        throw new ProtocolException($"A worker does not accept {type} frames.");
                }
                if (_inbox.Count == 0 && _deferred.Count == 0) _pulse?.Idle(); // nothing queued: the pulse sleeps until the next chunk
            }
            return ExitCodes.ParentGone;
        }

        private bool TryNextFrame(out FrameType type, out byte[] body)
        {
            if (_deferred.Count > 0)
            {
                (type, body) = _deferred.Dequeue();
                return true;
            }
            try
            {
                (type, body) = _inbox.Take();
                return true;
            }
            catch (InvalidOperationException)
            {
                (type, body) = (default, Array.Empty<byte>());
                return false; // completed: the parent said Shutdown (handled) or is gone
            }
        }

        /// <summary>
        /// A file the next Setup or Define names (a remote worker only): the cached copy when it is intact, else ask the
        /// parent for the bytes and wait for them here, keeping the frames that arrive meanwhile for afterwards.
        /// </summary>
        private void OnFileOffer(FileOfferMessage offer)
        {
            try
            {
                if (FileCache.TryUseCached(offer.Path, offer.Name, offer.Hash)) return;
            }
            catch (Exception error) when (error is IOException || error is UnauthorizedAccessException || error is InvalidDataException)
            {
                FileCache.Fail(offer.Path, error.Message);
                return;
            }
            _channel.SendFileNeeded(new FileNeededMessage(offer.Hash));
            while (true)
            {
                (FrameType Type, byte[] Body) frame;
                try { frame = _inbox.Take(); }
                catch (InvalidOperationException)
                {
                    FileCache.Fail(offer.Path, "the parent went away before it sent the file.");
                    return;
                }
                if (frame.Type == FrameType.FileData)
                {
                    var reader = new BodyReader(frame.Body, 0, frame.Body.Length);
                    var data = FileDataMessage.ReadFrom(ref reader);
                    if (!data.Hash.AsSpan().SequenceEqual(offer.Hash)) throw new ProtocolException("A FileData frame arrived for a file that was not asked for.");
                    FileCache.Store(offer.Path, offer.Name, offer.Hash, data.Bytes);
                    return;
                }
                _deferred.Enqueue(frame);
                if (frame.Type == FrameType.Shutdown)
                {
                    FileCache.Fail(offer.Path, "the worker was shut down before the file arrived.");
                    return;
                }
            }
        }

        private void ReadFrames()
        {
            var frames = new FrameReader(_input);
            try
            {
                while (frames.TryRead(out var type, out var body))
                {
                    var copy = new byte[body.Remaining];
                    Buffer.BlockCopy(body.Data, body.Position, copy, 0, copy.Length);
                    _inbox.Add((type, copy));
                    if (type == FrameType.Shutdown) { _inbox.CompleteAdding(); return; }
                }
            }
            catch (Exception error)
            {
                Console.Error.WriteLine($"ProcessPool worker: protocol input failed: {error.Message}");
            }
            // The parent closed our stdin or sent garbage: it is gone or broken, and nothing here may outlive it.
            _exit(ExitCodes.ParentGone);
        }

        private bool Setup(SetupMessage setup)
        {
            _pulse = new ResultPulse(_channel, setup.HeartbeatMilliseconds);
            _maxWorkingSet = setup.MaxWorkingSetBytes;
            try
            {
                foreach (var pair in setup.RunnerSetup)
                    GetRunner(pair.Key, pair.Value);
            }
            catch (Exception error)
            {
                _channel.SendSetupFailed(ErrorInfo.FromException(error));
                foreach (var failure in DisposeRunners()) Console.Error.WriteLine($"ProcessPool worker: finalizer failed: {failure.Message}");
                return false;
            }
            _channel.SendReady();
            return true;
        }

        /// <summary>The runner for a payload kind, created and initialized on first use (with the pool's setup when it has one).</summary>
        private IPayloadRunner GetRunner(string kind, byte[]? setup = null)
        {
            if (_runners.TryGetValue(kind, out var runner)) return runner;
            if (!_factories.TryGetValue(kind, out var factory))
                throw new NotSupportedException($"This worker cannot run '{kind}' payloads; it runs: {string.Join(", ", _factories.Keys)}.");
            runner = factory();
            try { runner.Initialize(setup ?? Array.Empty<byte>()); }
            catch { runner.Dispose(); throw; }
            _runners[kind] = runner;
            return runner;
        }

        private void Define(ref BodyReader body)
        {
            var define = DefineMessage.ReadFrom(ref body);
            try
            {
                _maps[define.MapId] = GetRunner(define.Kind).Define(define.Payload);
            }
            catch (Exception error)
            {
                var info = ErrorInfo.FromException(error);
                _failedMaps[define.MapId] = info;
                _channel.SendDefineFailed(new DefineFailedMessage(define.MapId, info));
            }
        }

        private void RunChunk(ref BodyReader body)
        {
            long started = Stopwatch.GetTimestamp();
            var chunk = ChunkMessage.ReadFrom(ref body);
            var items = chunk.ReadItems(ref body);
            int mapId = chunk.MapId, count = chunk.Count;
            long chunkId = chunk.ChunkId;
            bool isolated = chunk.Isolated;
            var sink = new ChunkSink(_channel, chunkId, count, flushEachItem: isolated);
            // An isolated re-run, and the first chunk of a map (which first loads its code), say when they begin: the
            // parent blames a death on an isolated item, and starts an item timeout, only from then. The parent applies
            // the same rule when it dispatches.
            if (_startedMaps.Add(mapId) | isolated) _channel.SendChunkStarted(chunkId);

            if (!_maps.TryGetValue(mapId, out var executor) || executor == null)
            {
                var error = _failedMaps.TryGetValue(mapId, out var failed)
                    ? failed
                    : new ErrorInfo(typeof(InvalidOperationException).FullName!, $"Map {mapId} was not defined in this worker.");
                for (int i = 0; i < count; i++)
                {
                    sink.BeginItem(i);
                    sink.FailItem(error.Type, error.Message, error.StackTrace, error.Detail);
                }
            }
            else
            {
                if (_pulse != null) _pulse.Sink = sink;
                try
                {
                    executor.RunChunk(items, sink);
                }
                catch (Exception error)
                {
                    // A runner that fails outside an item fails the item it was on and every one after it.
                    for (int i = Math.Max(0, sink.CurrentIndex); i < count; i++)
                    {
                        if (sink.CurrentIndex != i) sink.BeginItem(i);
                        sink.FailItem(error);
                    }
                }
                finally
                {
                    if (_pulse != null) _pulse.Sink = null;
                }
            }
            // With a ceiling, the figure is read fresh, and the parent decides from this same figure, so both sides agree
            // on whether this worker runs another chunk.
            long workingSet = _maxWorkingSet > 0 ? _channel.SampleWorkingSet() : _channel.WorkingSet;
            if (_maxWorkingSet > 0 && workingSet > _maxWorkingSet) _retiring = true;
            _channel.SendChunkDone(new ChunkDoneMessage(chunkId, (Stopwatch.GetTimestamp() - started) * 1_000_000 / Stopwatch.Frequency, workingSet));
        }

        private void Release(int mapId)
        {
            _failedMaps.Remove(mapId);
            _startedMaps.Remove(mapId);
            if (_maps.TryGetValue(mapId, out var executor))
            {
                _maps.Remove(mapId);
                executor?.Dispose();
            }
        }

        /// <summary>
        /// A clean exit: maps released, then each runner disposed, which runs its finalizer. A finalizer that fails is
        /// reported to the parent (which names this worker in a warning); one that hangs is the parent's to end, after
        /// its shutdown timeout.
        /// </summary>
        private void Shutdown()
        {
            foreach (var mapId in new List<int>(_maps.Keys)) Release(mapId);
            foreach (var error in DisposeRunners())
            {
                try { _channel.SendFinalizerFailed(ErrorInfo.FromException(error)); }
                catch (IOException) { return; } // the parent stopped listening: nobody is left to tell
            }
        }

        private List<Exception> DisposeRunners()
        {
            var failures = new List<Exception>();
            foreach (var runner in _runners.Values)
            {
                try { runner.Dispose(); }
                catch (Exception error) { failures.Add(error); }
            }
            _runners.Clear();
            return failures;
        }
    }
}
