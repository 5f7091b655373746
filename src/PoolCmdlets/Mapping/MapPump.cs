using System;
using System.Collections.Concurrent;
using System.Threading;
using ProcessPool.Engine;

namespace ProcessPool.Commands.Mapping
{
    /// <summary>
    /// Drives one map from the pipeline thread: that one thread both feeds items and drains results, so only it
    /// ever writes to PowerShell. When the map is full, <see cref="Submit"/> waits for room or a result
    /// (<see cref="MapRun.WaitForRoomOrResult"/>) and writes what is ready, so output streams while input is still
    /// arriving and memory stays bounded. Pool events, raised on engine threads, wait in a small queue until the
    /// pipeline thread turns them into verbose lines.
    /// </summary>
    internal sealed class MapPump : IDisposable
    {
        /// <summary>How long the pipeline thread waits before it looks at events and progress again.</summary>
        private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(100);
        /// <summary>Events beyond this many waiting are dropped (counted), so a storm cannot grow memory.</summary>
        private const int MaxQueuedEvents = 256;
        /// <summary>Results written per drain before events and progress get a turn.</summary>
        private const int DrainBatch = 512;

        private readonly WorkerPool _pool;
        private readonly MapRun _map;
        private readonly IRecordSink _sink;
        private readonly ResultWriter _writer;
        private readonly ProgressReporter? _progress;
        private readonly CancellationToken _token;
        private readonly ConcurrentQueue<PoolEvent> _events = new ConcurrentQueue<PoolEvent>();
        private int _droppedEvents;

        public MapPump(WorkerPool pool, MapOptions options, IRecordSink sink, ResultWriter writer, ProgressReporter? progress, CancellationToken token)
        {
            _pool = pool;
            _sink = sink;
            _writer = writer;
            _progress = progress;
            _token = token;
            _pool.EventRaised += OnEvent;
            try { _map = pool.StartMap(options); }
            catch
            {
                _pool.EventRaised -= OnEvent;
                throw;
            }
        }

        public MapRun Map => _map;

        /// <summary>Submits one item, writing results while the map is full. Throws the map's fault if it stopped.</summary>
        public void Submit(byte[] item, object? tag)
        {
            while (!_map.TrySubmit(item, tag, TimeSpan.Zero, _token))
            {
                _map.WaitForRoomOrResult(Poll, _token);
                Drain();
            }
            Drain();
        }

        /// <summary>Ends the input and writes results until the last; throws the map's fault (after the results delivered before it).</summary>
        public void Finish()
        {
            _map.CompleteInput();
            while (!_map.IsFinished)
            {
                _map.WaitForResult(Poll, _token);
                Drain();
            }
            Drain();
            _progress?.Complete(_sink);
            if (_map.Fault is Exception fault) throw fault;
        }

        /// <summary>Writes what is ready now: pool events as verbose lines, results in order, progress.</summary>
        public void Drain()
        {
            while (_events.TryDequeue(out var e)) _sink.WriteVerbose($"ProcessPool '{_pool.Name}': {e.Message}");
            int dropped = Interlocked.Exchange(ref _droppedEvents, 0);
            if (dropped > 0) _sink.WriteVerbose($"ProcessPool '{_pool.Name}': {dropped} more pool events were not shown.");
            while (true)
            {
                var results = _map.TakeAvailable(DrainBatch);
                foreach (var result in results) _writer.Write(result);
                if (results.Count < DrainBatch) break;
            }
            _progress?.Update(_map, _sink);
        }

        /// <summary>Stops the map if it has not finished (Ctrl+C, Select-Object -First, an error downstream) and detaches from the pool.</summary>
        public void Dispose()
        {
            _pool.EventRaised -= OnEvent;
            _map.Dispose();
        }

        private void OnEvent(object? sender, PoolEvent e)
        {
            if (_events.Count < MaxQueuedEvents) _events.Enqueue(e);
            else Interlocked.Increment(ref _droppedEvents);
        }
    }
}
