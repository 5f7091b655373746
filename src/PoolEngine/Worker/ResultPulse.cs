using System;
using System.Diagnostics;
using System.IO;
using System.Threading;

namespace ProcessPool.Engine.Worker
{
    /// <summary>
    /// The worker's pulse thread. While a chunk runs it wakes every 5 ms to push out buffered results (so a hang
    /// right after fast items cannot hide them, and the parent blames the right item on a timeout), sends what a
    /// long-running item has emitted so far (<see cref="ChunkSink.SendRunningRecords"/>) and, when the
    /// worker has been silent for the heartbeat interval, sends a heartbeat with the working set. Between chunks it
    /// sleeps until the next chunk begins, so an idle worker costs no CPU: nothing is buffered then (a chunk ends
    /// with a control frame that flushes), and the parent learns of a death from the closed pipe, not from silence.
    /// Threading: <see cref="Busy"/> and <see cref="Idle"/> are called by the worker's main thread only.
    /// </summary>
    internal sealed class ResultPulse
    {
        private const int PeriodMilliseconds = 5;

        private readonly ProtocolChannel _channel;
        private readonly long _heartbeatTicks;
        private readonly object _gate = new object();
        private volatile bool _busy;
        private volatile ChunkSink? _sink;

        public ResultPulse(ProtocolChannel channel, int heartbeatMilliseconds)
        {
            _channel = channel;
            _heartbeatTicks = heartbeatMilliseconds * Stopwatch.Frequency / 1000;
            new Thread(Run) { IsBackground = true, Name = "ProcessPool worker pulse" }.Start();
        }

        /// <summary>A chunk begins: wake the pulse if it sleeps.</summary>
        public void Busy()
        {
            if (_busy) return;
            lock (_gate)
            {
                _busy = true;
                Monitor.Pulse(_gate);
            }
        }

        /// <summary>The chunk now running (null between chunks): its long-running item's records are sent as they come.</summary>
        public ChunkSink? Sink
        {
            set => _sink = value;
        }

        /// <summary>No chunk is waiting: the pulse sleeps after its current round.</summary>
        public void Idle() => _busy = false;

        private void Run()
        {
            try
            {
                while (true)
                {
                    lock (_gate)
                        while (!_busy) Monitor.Wait(_gate);
                    Thread.Sleep(PeriodMilliseconds);
                    _sink?.SendRunningRecords();
                    _channel.FlushIfDirty();
                    if (_heartbeatTicks > 0 && Stopwatch.GetTimestamp() - _channel.LastWriteTicks >= _heartbeatTicks) _channel.SendHeartbeat();
                }
            }
            catch (IOException)
            {
                // The parent closed the pipe: the reader thread ends the worker.
            }
            catch (Exception error)
            {
                // Nothing may escape a worker thread unreported; the parent sees the worker's end and its stderr.
                Console.Error.WriteLine($"ProcessPool worker: the pulse thread failed: {error}");
                Environment.Exit(ExitCodes.WorkerFault);
            }
        }
    }
}
