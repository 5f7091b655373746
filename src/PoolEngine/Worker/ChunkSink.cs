using System;
using System.Diagnostics;
using ProcessPool.Engine.Protocol;

namespace ProcessPool.Engine.Worker
{
    /// <summary>
    /// Where a runner reports a chunk's items. Each item's records are gathered and sent as one entry of an ItemsDone frame when
    /// the item ends, so the parent receives an item's outputs together. Used by the worker's main thread only.
    /// </summary>
    public sealed class ChunkSink
    {
        private readonly ProtocolChannel _channel;
        private readonly ByteBuffer _body = new ByteBuffer(4096);
        private readonly int _itemCount;
        private long _chunkId;
        private int _current = -1;
        private int _recordCount;
        private int _recordCountOffset;
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
            if (_current != -1) throw new InvalidOperationException($"Item {_current} was not ended before item {index} began.");
            if (index < 0 || index >= _itemCount) throw new ArgumentOutOfRangeException(nameof(index));
            _current = index;
            _itemStartTicks = _lastEndTicks != 0 ? _lastEndTicks : Stopwatch.GetTimestamp();
            _body.Clear();
            _body.WriteInt64(_chunkId);
            _body.WriteInt32(index);
            _body.Reserve(8); // duration, patched at the end
            _recordCountOffset = _body.Reserve(4);
            _recordCount = 0;
        }

        /// <summary>Adds one record (an output value or a stream record) to the current item.</summary>
        public void Emit(RecordKind kind, byte[] data)
        {
            if (_current == -1) throw new InvalidOperationException("Emit was called outside an item.");
            _body.WriteByte((byte)kind);
            _body.WriteBlob(data);
            _recordCount++;
        }

        /// <summary>Ends the current item successfully.</summary>
        public void EndItem() => Finish(null);

        /// <summary>Ends the current item as failed with <paramref name="error"/>; <paramref name="detail"/> is runner-specific (for script blocks, the ErrorRecord).</summary>
        public void FailItem(Exception error, byte[]? detail = null) => Finish(ErrorInfo.FromException(error, detail));

        /// <summary>Ends the current item as failed with an error described by its parts.</summary>
        public void FailItem(string type, string message, string? stackTrace, byte[]? detail) => Finish(new ErrorInfo(type, message, stackTrace, detail));

        private void Finish(ErrorInfo? error)
        {
            if (_current == -1) throw new InvalidOperationException("No item is running.");
            long now = Stopwatch.GetTimestamp();
            _lastEndTicks = now;
            long micros = (now - _itemStartTicks) * 1_000_000 / Stopwatch.Frequency;
            _body.PatchInt32(12, (int)micros);
            _body.PatchInt32(16, (int)(micros >> 32));
            _body.PatchInt32(_recordCountOffset, _recordCount);
            if (error == null) _body.WriteByte(0);
            else
            {
                _body.WriteByte(1);
                error.WriteTo(_body);
            }
            _channel.AddItemResult(_body, sendNow: _flushEachItem || micros > 2000, now);
            _current = -1;
        }
    }
}
