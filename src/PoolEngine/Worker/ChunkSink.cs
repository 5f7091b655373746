using System;
using System.Diagnostics;
using ProcessPool.Engine.Protocol;

namespace ProcessPool.Engine.Worker
{
    /// <summary>
    /// Where a runner reports a chunk's items. Each item's records are gathered and sent as one entry of an ItemsDone
    /// frame when the item ends (<see cref="ItemsDoneMessage.EntryWriter"/>), so fast items share frames. An item that
    /// runs longer than <see cref="StreamAfterMilliseconds"/> streams: the pulse thread sends what it gathered so far in
    /// an ItemRecords frame (<see cref="SendRunningRecords"/>) every few ms, and its ItemsDone entry carries only the rest.
    /// Threading: the worker's main thread begins, fills and ends items; the pulse thread only takes the gathered
    /// records of a running item. Both hold <c>_sync</c> (then the channel's lock, never the reverse).
    /// </summary>
    public sealed class ChunkSink
    {
        /// <summary>An item older than this streams its records as they come; a younger one's wait for its end, so trivial items cost no frames of their own.</summary>
        internal const int StreamAfterMilliseconds = 20;
        private static readonly long StreamAfterTicks = Stopwatch.Frequency * StreamAfterMilliseconds / 1000;

        private readonly object _sync = new object();
        private readonly ProtocolChannel _channel;
        private readonly ByteBuffer _body = new ByteBuffer(4096);
        private readonly int _itemCount;
        private readonly long _chunkId;
        private int _current = -1;
        private ItemsDoneMessage.EntryWriter _entry;
        private long _itemStartTicks;
        /// <summary>When the previous item of this chunk ended (0: none yet). The next item starts from it, so an item
        /// costs one clock read, not two: at a few hundred ns an item, clock reads were a third of a worker's time.</summary>
        private long _lastEndTicks;

        private readonly bool _flushEachItem;

        internal ChunkSink(ProtocolChannel channel, long chunkId, int itemCount, bool flushEachItem = false)
        {
            _flushEachItem = flushEachItem;
            _channel = channel;
            _chunkId = chunkId;
            _itemCount = itemCount;
        }

        /// <summary>Index of the item now running, or -1 between items.</summary>
        public int CurrentIndex => _current;

        /// <summary>Starts item <paramref name="index"/>; items must be begun in order.</summary>
        public void BeginItem(int index)
        {
            lock (_sync)
            {
                if (_current != -1) throw new InvalidOperationException($"Item {_current} was not ended before item {index} began.");
                if (index < 0 || index >= _itemCount) throw new ArgumentOutOfRangeException(nameof(index));
                _current = index;
                _itemStartTicks = _lastEndTicks != 0 ? _lastEndTicks : Stopwatch.GetTimestamp();
                _body.Clear();
                _entry.Begin(_body, _chunkId, index);
            }
        }

        /// <summary>Adds one record (an output value or a stream record) to the current item.</summary>
        public void Emit(RecordKind kind, byte[] data)
        {
            lock (_sync)
            {
                if (_current == -1) throw new InvalidOperationException("Emit was called outside an item.");
                _entry.AddRecord(_body, kind, data);
            }
        }

        /// <summary>Ends the current item successfully.</summary>
        public void EndItem() => Finish(null);

        /// <summary>Ends the current item as failed with <paramref name="error"/>; <paramref name="detail"/> is runner-specific (for script blocks, the ErrorRecord).</summary>
        public void FailItem(Exception error, byte[]? detail = null) => Finish(ErrorInfo.FromException(error, detail));

        /// <summary>Ends the current item as failed with an error described by its parts.</summary>
        public void FailItem(string type, string message, string? stackTrace, byte[]? detail) => Finish(new ErrorInfo(type, message, stackTrace, detail));

        /// <summary>
        /// Pulse thread: when the running item is older than <see cref="StreamAfterMilliseconds"/> and has gathered
        /// records, sends them now in an ItemRecords frame, so a long item's output reaches the caller as it comes.
        /// </summary>
        internal void SendRunningRecords()
        {
            lock (_sync)
            {
                if (_current == -1 || _entry.RecordCount == 0 || Stopwatch.GetTimestamp() - _itemStartTicks < StreamAfterTicks) return;
                _channel.SendItemRecords(_chunkId, _current, _entry.RecordCount, _body, _entry.RecordsOffset);
                _entry.DropRecords(_body);
            }
        }

        private void Finish(ErrorInfo? error)
        {
            lock (_sync)
            {
                if (_current == -1) throw new InvalidOperationException("No item is running.");
                long now = Stopwatch.GetTimestamp();
                _lastEndTicks = now;
                long micros = (now - _itemStartTicks) * 1_000_000 / Stopwatch.Frequency;
                _entry.End(_body, micros, error);
                _channel.AddItemResult(_body, sendNow: _flushEachItem || micros > 2000, now);
                _current = -1;
            }
        }
    }
}
