using System;
using System.Diagnostics;
using System.IO;
using ProcessPool.Engine.Protocol;

namespace ProcessPool.Engine.Worker
{
    /// <summary>
    /// The worker's sending half: frames to the parent, serialized by one lock because the main thread (results)
    /// and the heartbeat thread both write. Small results are batched and flushed at chunk end or every few ms.
    /// </summary>
    internal sealed class ProtocolChannel
    {
        private static readonly long FlushIntervalTicks = Stopwatch.Frequency / 100; // 10 ms
        private static readonly long MemorySampleTicks = Stopwatch.Frequency / 20;   // 50 ms

        private readonly FrameWriter _writer;
        private readonly ByteBuffer _control = new ByteBuffer();
        private long _lastFlushTicks = Stopwatch.GetTimestamp();
        private long _lastWriteTicks = Stopwatch.GetTimestamp();
        private long _memorySampledTicks;
        private long _workingSet;
        private bool _dirty;
        private readonly ByteBuffer _batch = new ByteBuffer(64 * 1024);
        private int _batchCount;
        private const int MaxBatchBytes = 256 * 1024;

        public ProtocolChannel(Stream output) => _writer = new FrameWriter(new BufferedStream(output, 64 * 1024));

        public long LastWriteTicks => _lastWriteTicks;

        /// <summary>The process's working set, sampled at most every 50 ms because reading it costs a system call.</summary>
        public long WorkingSet
        {
            get
            {
                long now = Stopwatch.GetTimestamp();
                if (now - _memorySampledTicks > MemorySampleTicks)
                {
                    _workingSet = Environment.WorkingSet;
                    _memorySampledTicks = now;
                }
                return _workingSet;
            }
        }

        public void SendHello(HelloMessage hello) => SendControl(FrameType.Hello, body => hello.WriteTo(body));

        public void SendReady() => SendControl(FrameType.Ready, _ => { });

        public void SendSetupFailed(ErrorInfo error) => SendControl(FrameType.SetupFailed, body => error.WriteTo(body));

        public void SendDefineFailed(DefineFailedMessage message) => SendControl(FrameType.DefineFailed, body => message.WriteTo(body));

        public void SendFileNeeded(FileNeededMessage message) => SendControl(FrameType.FileNeeded, body => message.WriteTo(body));

        public void SendChunkStarted(long chunkId) => SendControl(FrameType.ChunkStarted, body => new ChunkStartedMessage(chunkId).WriteTo(body));

        /// <summary>A runner's finalizer failed during shutdown; sent before the worker exits, so the parent can say which worker and why.</summary>
        public void SendFinalizerFailed(ErrorInfo error) => SendControl(FrameType.FinalizerFailed, body => error.WriteTo(body));

        public void SendHeartbeat() => SendControl(FrameType.Heartbeat, body => new HeartbeatMessage(WorkingSet).WriteTo(body));

        public void SendChunkDone(ChunkDoneMessage message) => SendControl(FrameType.ChunkDone, body => message.WriteTo(body));

        /// <summary>
        /// Records of an item still running: chunk id, index, count, then the records as the sink gathered them.
        /// Results batched before it go out first, so the parent sees every frame in the order the items ran.
        /// </summary>
        public void SendItemRecords(long chunkId, int index, int recordCount, ByteBuffer entry, int recordsOffset) =>
            SendControl(FrameType.ItemRecords, body => ItemRecordsMessage.WriteTo(body, chunkId, index, recordCount, entry, recordsOffset));

        /// <summary>The working set read now, bypassing the 50 ms sample (used when a ceiling is checked).</summary>
        public long SampleWorkingSet()
        {
            _memorySampledTicks = Stopwatch.GetTimestamp();
            return _workingSet = Environment.WorkingSet;
        }

        /// <summary>
        /// Adds one item's result to the open ItemsDone batch. Consecutive results share a frame so the parent takes
        /// one lock and wakes its consumer once per batch, not per item. A slow item's result goes out at once; fast
        /// ones ride along with the next flush, which the pulse thread forces within a few ms so that a following
        /// item that hangs cannot hold them back.
        /// </summary>
        /// <param name="entry">The item's ItemsDone entry.</param>
        /// <param name="sendNow">Flush at once (a slow item, an isolated run).</param>
        /// <param name="now">The clock read when the item ended (the caller has it; one read per item is enough).</param>
        public void AddItemResult(ByteBuffer entry, bool sendNow, long now)
        {
            lock (_writer.SyncRoot)
            {
                if (_batchCount == 0) ItemsDoneMessage.BeginBatch(_batch);
                _batch.WriteBytes(entry.RawData, 0, entry.Length);
                _batchCount++;
                _lastWriteTicks = now;
                if (sendNow || now - _lastFlushTicks > FlushIntervalTicks)
                {
                    SealBatchLocked();
                    _writer.Flush();
                    _lastFlushTicks = now;
                    _dirty = false;
                }
                else
                {
                    if (_batch.Length > MaxBatchBytes) SealBatchLocked();
                    _dirty = true;
                }
            }
        }

        private void SealBatchLocked()
        {
            if (_batchCount == 0) return;
            ItemsDoneMessage.SealBatch(_batch, _batchCount);
            _writer.Write(FrameType.ItemsDone, _batch);
            _batchCount = 0;
        }

        /// <summary>Flushes results still sitting in the buffer; called every few ms by the pulse thread.</summary>
        public void FlushIfDirty()
        {
            lock (_writer.SyncRoot)
            {
                if (!_dirty) return;
                SealBatchLocked();
                _writer.Flush();
                _lastFlushTicks = Stopwatch.GetTimestamp();
                _dirty = false;
            }
        }

        private void SendControl(FrameType type, Action<ByteBuffer> fill)
        {
            lock (_writer.SyncRoot)
            {
                SealBatchLocked(); // results always precede the ChunkDone (or any control frame) that follows them
                _control.Clear();
                fill(_control);
                _writer.Write(type, _control);
                _writer.Flush();
                _lastWriteTicks = _lastFlushTicks = Stopwatch.GetTimestamp();
                _dirty = false;
            }
        }
    }
}
