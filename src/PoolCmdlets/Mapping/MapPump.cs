using System;
using System.Threading;
using ProcessPool.Engine;

namespace ProcessPool.Commands.Mapping
{
    /// <summary>
    /// Drives one map from the pipeline thread: that one thread both feeds items and drains results, so only it
    /// ever writes to PowerShell. When the map is full, <see cref="Submit"/> waits for room or a result
    /// (<see cref="MapRun.WaitForRoomOrResult"/>) and writes what is ready, so output streams while input is still
    /// arriving and memory stays bounded. Pool events wait in a <see cref="PoolEventRelay"/> until the pipeline
    /// thread turns them into verbose lines.
    /// </summary>
    internal sealed class MapPump : IDisposable
    {
        /// <summary>How long the pipeline thread waits before it looks at events and progress again.</summary>
        private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(100);
        /// <summary>Results written per drain before events and progress get a turn.</summary>
        private const int DrainBatch = 512;

        private readonly MapRun _map;
        private readonly IRecordSink _sink;
        private readonly ResultWriter _writer;
        private readonly ProgressReporter? _progress;
        private readonly CancellationToken _token;
        private readonly PoolEventRelay _events;

        public MapPump(WorkerPool pool, MapOptions options, IRecordSink sink, ResultWriter writer, ProgressReporter? progress, CancellationToken token)
        {
            _sink = sink;
            _writer = writer;
            _progress = progress;
            _token = token;
            _events = new PoolEventRelay(pool);
            try { _map = pool.StartMap(options); }
            catch
            {
                _events.Dispose();
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

        /// <summary>After the map stopped (its run timeout): writes what is still ready and closes the progress bar.</summary>
        public void DrainStopped()
        {
            Drain();
            _progress?.Complete(_sink);
        }

        /// <summary>Writes what is ready now: pool events as verbose lines, results in order, progress.</summary>
        public void Drain()
        {
            _events.Drain(_sink.WriteVerbose, writeWarning: _sink.WriteWarning);
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
            _events.Dispose();
            _map.Dispose();
        }
    }
}
