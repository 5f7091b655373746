using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;

namespace ProcessPool.Engine
{
    /// <summary>
    /// One map running on a pool: the handle a caller submits items to and takes results from, synchronously or as a
    /// job. Bounded: at most <see cref="Capacity"/> items may be submitted and not yet taken, so a slow consumer or a
    /// slow item pushes back on the producer and memory does not grow with the input.
    /// Output is exactly-once: a result is accepted for a sequence only while it is pending, so a late duplicate from
    /// a re-run is dropped. Records a running item sends early (ItemRecords frames) are published in its slot and
    /// counted: a re-run of the item (after a crash, a kill or a retry) skips as many of its first records, so what
    /// was published is never published twice; with <see cref="MapOptions.StreamRecords"/> the consumer takes them
    /// before the item ends, in the map's order.
    /// Threading: any number of engine threads complete items; one producer and one consumer are expected; every
    /// field below is guarded by <c>_sync</c>. Lock order: the pool's lock may be held when taking this one, never the
    /// reverse.
    /// </summary>
    public sealed class MapRun : IDisposable
    {
        private const byte Empty = 0, Pending = 1, Completed = 2, Taken = 3;
        /// <summary>A chunk is cut at this many bytes even below its item count, so big items make frames of sane size.</summary>
        private const int MaxChunkBytes = 8 * 1024 * 1024;

        private struct Slot
        {
            public object? Tag;
            public ItemResult? Result;
            public int Attempts;
            public int Crashes;
            public int Kills;
            public byte State;
            /// <summary>In the unordered ready queue (at most once).</summary>
            public bool Queued;
            /// <summary>Records published while the item runs and not yet taken (null when none), and their bytes.</summary>
            public List<OutputRecord>? Held;
            public long HeldBytes;
            /// <summary>Records of this item published so far, over all its attempts: a re-run's first this many are skipped.</summary>
            public int Published;
            /// <summary>Records seen from the attempt running in chunk <see cref="AttemptChunk"/> (chunk ids grow, so a new attempt has a larger one).</summary>
            public int Seen;
            public long AttemptChunk;
        }

        private readonly WorkerPool _pool;
        private readonly object _sync = new object();
        private readonly Slot[] _slots;
        private readonly int _mask;
        /// <summary>Unordered maps: sequences whose result or streamed records can be taken, in arrival order.</summary>
        private readonly Queue<long> _readyOrder = new Queue<long>();
        /// <summary>Bytes of <see cref="Slot.Held"/> over all slots; bounded by <see cref="MapOptions.MaxHeldRecordBytes"/> (see <see cref="ItemRecords"/>).</summary>
        private long _heldBytes;
        private readonly long _startTicks = Stopwatch.GetTimestamp();
        private readonly ProgressEstimator _progress;
        /// <summary>Submitted items not yet in a chunk. Chunks are cut from here when a worker has room (pulled by the
        /// pool), so each gets the size the latest measurements call for, not the size in force when its items came.</summary>
        private readonly Queue<long> _openSequences = new Queue<long>();
        private readonly Queue<byte[]> _openItems = new Queue<byte[]>();
        private long _openBytes;
        /// <summary>Set when the producer told the pool a full chunk is open; cleared when the pool takes a chunk. One poke per chunk, not per item.</summary>
        private bool _pokedPool;
        private long _submitted, _lowWater, _taken, _completed, _succeeded, _failed;
        private bool _inputComplete, _stopped, _doneNotified;
        /// <summary>Set once the pool has posted this map's release to its workers; only then is the map finished, so a
        /// map started after this one finished reaches every worker behind the release that resets its state.</summary>
        private bool _released;
        private Exception? _fault;
        private int _waiters;
        /// <summary>Waiters in <see cref="SubmitBatch"/>, which only room can wake, and the room they wait for.</summary>
        private int _roomWaiters;
        private long _roomWanted;

        internal MapRun(WorkerPool pool, int id, MapOptions options, int workers, int? maxTasksPerWorker)
        {
            _pool = pool;
            Id = id;
            Options = options;
            Sizer = new ChunkSizer(options.ChunkSize, options.TargetChunkDuration, options.ExpectedCount, workers, maxTasksPerWorker);
            // Enough room for every worker to hold two chunks and have two more queued, so the bound never starves them.
            Capacity = options.MaxItemsInFlight ?? (int)Math.Min(1 << 20, Math.Max(1024L, (long)workers * Sizer.MaxSize * 4));
            // The ring is a power of two so a sequence maps to its slot with a mask, not a 64-bit division per item.
            int ring = 1;
            while (ring < Capacity) ring <<= 1;
            _slots = new Slot[ring];
            _mask = ring - 1;
            _progress = new ProgressEstimator(_startTicks);
            if (options.RunTimeout is TimeSpan limit) RunDeadlineTicks = _startTicks + (long)(limit.TotalSeconds * Stopwatch.Frequency);
        }

        /// <summary>Pool-local id of this map.</summary>
        public int Id { get; }

        /// <summary>Items that may be submitted and not yet taken before <see cref="Submit"/> blocks.</summary>
        public int Capacity { get; }

        internal MapOptions Options { get; }
        internal ChunkSizer Sizer { get; }
        internal long RunDeadlineTicks { get; } = long.MaxValue;

        /// <summary>The failure that stopped the map (cancellation, broken pool, definition error, run timeout), or null.</summary>
        public Exception? Fault { get { lock (_sync) return _fault; } }

        /// <summary>Bytes of streamed records held for running items and not yet taken (for tests of the bound).</summary>
        internal long HeldRecordBytes { get { lock (_sync) return _heldBytes; } }

        /// <summary>True once the map was cancelled or failed as a whole.</summary>
        public bool IsStopped { get { lock (_sync) return _stopped; } }

        /// <summary>True when every submitted item has a result (or the map stopped) and input is complete.</summary>
        public bool IsCompleted { get { lock (_sync) return AllCompletedLocked(); } }

        /// <summary>True when no more results will come (all were taken, or the map stopped and nothing is left to take) and the
        /// workers have been told to release the map.</summary>
        public bool IsFinished { get { lock (_sync) return FinishedLocked(); } }

        // ---- producer ----------------------------------------------------------------------------

        /// <summary>Adds one item, blocking while the in-flight bound is reached. <paramref name="tag"/> comes back with its result.</summary>
        public void Submit(byte[] item, object? tag = null, CancellationToken cancellationToken = default)
        {
            if (!TrySubmit(item, tag, Timeout.InfiniteTimeSpan, cancellationToken))
                throw new InvalidOperationException("Submit timed out.");
        }

        /// <summary>Adds one item unless the bound stays reached for <paramref name="wait"/>; false then (take results and try again).</summary>
        /// <exception cref="ArgumentException">The item is larger than <see cref="WorkerPool.MaxItemBytes"/>; nothing was sent.</exception>
        public bool TrySubmit(byte[] item, object? tag, TimeSpan wait, CancellationToken cancellationToken = default)
        {
            if (item == null) throw new ArgumentNullException(nameof(item));
            CheckSize(item);
            bool poke;
            lock (_sync)
            {
                if (_inputComplete) throw new InvalidOperationException("Input was already completed.");
                if (!WaitLocked(HasRoomOrStoppedLocked, wait, cancellationToken)) return false;
                ThrowIfStoppedLocked();
                long sequence = _submitted++;
                _slots[sequence & _mask] = new Slot { Tag = tag, State = Pending };
                OpenLocked(sequence, item);
                poke = ShouldPokeLocked();
            }
            if (poke) _pool.OnWorkOpened();
            return true;
        }

        /// <summary>Adds items in order, waiting for room as needed; one lock per batch instead of per item (used by feeders).</summary>
        internal void SubmitBatch(List<byte[]> items, CancellationToken cancellationToken = default)
        {
            int next = 0;
            while (next < items.Count)
            {
                bool poke;
                lock (_sync)
                {
                    if (_inputComplete) throw new InvalidOperationException("Input was already completed.");
                    WaitForRoomLocked(Math.Min(items.Count - next, RefillRoom), cancellationToken);
                    ThrowIfStoppedLocked();
                    while (next < items.Count && FreeSlotsLocked > 0)
                    {
                        var item = items[next++];
                        CheckSize(item);
                        long sequence = _submitted++;
                        _slots[sequence & _mask] = new Slot { State = Pending };
                        OpenLocked(sequence, item);
                    }
                    poke = ShouldPokeLocked();
                }
                if (poke) _pool.OnWorkOpened();
            }
        }

        /// <summary>An item a worker would refuse (its chunk frame over the limit) is refused here, before it is sent: otherwise every worker that got it would exit and every item would be blamed.</summary>
        private void CheckSize(byte[] item)
        {
            if (item.Length > _pool.MaxItemBytes)
                throw new ArgumentException($"The item is {item.Length} bytes once serialized; a worker accepts items of at most {_pool.MaxItemBytes} bytes.", nameof(item));
        }

        /// <summary>
        /// A feeder waits until room for this many items (or the rest of its batch) is free, not for each slot: with
        /// the bound reached, waking it per taken result cost a thread switch per item.
        /// </summary>
        private int RefillRoom => Math.Max(1, Capacity / 8);

        private void WaitForRoomLocked(int wanted, CancellationToken cancellationToken)
        {
            Debug.Assert(Monitor.IsEntered(_sync));
            _roomWaiters++;
            _roomWanted = wanted;
            try { WaitLocked(() => _stopped || FreeSlotsLocked >= wanted, Timeout.InfiniteTimeSpan, cancellationToken); }
            finally { _roomWaiters--; }
        }

        private bool HasRoomOrStoppedLocked()
        {
            Debug.Assert(Monitor.IsEntered(_sync));
            return _stopped || FreeSlotsLocked > 0;
        }

        /// <summary>Items that may still be submitted before the bound is reached.</summary>
        private long FreeSlotsLocked => Capacity - (_submitted - _lowWater);

        /// <summary>Says no more items will come; results then end after the last one.</summary>
        public void CompleteInput()
        {
            bool poke;
            lock (_sync)
            {
                if (_inputComplete) return;
                _inputComplete = true;
                poke = _openItems.Count > 0 && !_stopped;
                PulseLocked();
            }
            if (poke) _pool.OnWorkOpened();
            CheckDone();
        }

        /// <summary>Stops the map: pending items are dropped and workers running its items are stopped.</summary>
        public void Cancel() => Stop(new OperationCanceledException("The map was cancelled."));

        /// <summary>Cancels the map if it has not finished.</summary>
        public void Dispose()
        {
            if (!IsFinished) Cancel();
        }

        // ---- consumer ----------------------------------------------------------------------------

        /// <summary>Takes the next result if one is ready (in input order when ordered).</summary>
        public bool TryTake(out ItemResult result)
        {
            lock (_sync) return TryTakeLocked(out result);
        }

        /// <summary>Blocks until a result can be taken or no more will come; false on timeout.</summary>
        public bool WaitForResult(TimeSpan timeout, CancellationToken cancellationToken = default)
        {
            lock (_sync) return WaitLocked(CanTakeOrFinishedLocked, timeout, cancellationToken);
        }

        /// <summary>Blocks until a result can be taken, the bound has room for another item, or the map finished; false on timeout. Lets a single thread both feed and drain.</summary>
        public bool WaitForRoomOrResult(TimeSpan timeout, CancellationToken cancellationToken = default)
        {
            lock (_sync) return WaitLocked(() => CanTakeLocked() || FinishedLocked() || HasRoomOrStoppedLocked(), timeout, cancellationToken);
        }

        /// <summary>
        /// Blocks until every item has a result (taken or not) or the map stopped, and the pool has let go of the map
        /// (so <see cref="IsFinished"/> is true once the results are taken); false on timeout.
        /// </summary>
        public bool Wait(TimeSpan timeout, CancellationToken cancellationToken = default)
        {
            lock (_sync) return WaitLocked(() => AllCompletedLocked() && _released, timeout, cancellationToken);
        }

        /// <summary>Takes up to <paramref name="max"/> results that are ready now.</summary>
        public List<ItemResult> TakeAvailable(int max = int.MaxValue)
        {
            var results = new List<ItemResult>();
            lock (_sync)
                while (results.Count < max && TryTakeLocked(out var result)) results.Add(result);
            return results;
        }

        /// <summary>All results, blocking as needed; throws the map's <see cref="Fault"/> after the results delivered before it.</summary>
        public IEnumerable<ItemResult> GetResults(CancellationToken cancellationToken = default)
        {
            // Taken in batches: one lock per batch rather than per result.
            var batch = new List<ItemResult>(256);
            while (true)
            {
                lock (_sync)
                {
                    WaitLocked(CanTakeOrFinishedLocked, Timeout.InfiniteTimeSpan, cancellationToken);
                    while (batch.Count < 256 && TryTakeLocked(out var result)) batch.Add(result);
                    if (batch.Count == 0)
                    {
                        if (_fault != null) throw _fault;
                        yield break;
                    }
                }
                foreach (var result in batch) yield return result;
                batch.Clear();
            }
        }

        /// <summary>A snapshot of the live counters.</summary>
        public MapProgress GetProgress()
        {
            lock (_sync)
            {
                long now = Stopwatch.GetTimestamp();
                return new MapProgress(_submitted, _completed, _succeeded, _failed, _taken,
                    Options.ExpectedCount ?? (_inputComplete ? _submitted : (long?)null), _progress.Rate(now),
                    TimeSpan.FromSeconds((now - _startTicks) / (double)Stopwatch.Frequency), FinishedLocked());
            }
        }

        // ---- engine side -------------------------------------------------------------------------

        /// <summary>
        /// Cuts the next chunk from the open items for a worker with room: <see cref="ChunkSizer.SizeFor"/> items (fewer
        /// when they pass <see cref="MaxChunkBytes"/>). Fewer items than that only when <paramref name="partial"/> (an
        /// idle worker at a tick, so a pausing producer's items still run) or when input is complete. Under the pool's lock.
        /// </summary>
        internal Chunk? TakeChunk(bool partial)
        {
            Debug.Assert(Monitor.IsEntered(_pool.Gate));
            lock (_sync)
            {
                if (_stopped || _openItems.Count == 0) return null;
                if (!partial && !_inputComplete && !IsFullLocked()) return null;
                _pokedPool = false;
                int size = Sizer.SizeFor(_openItems.Count, _inputComplete);
                var sequences = new List<long>(Math.Min(size, _openItems.Count));
                var items = new List<byte[]>(sequences.Capacity);
                long bytes = 0;
                while (_openItems.Count > 0 && items.Count < size && (items.Count == 0 || bytes + _openItems.Peek().Length <= MaxChunkBytes))
                {
                    var item = _openItems.Dequeue();
                    bytes += item.Length;
                    items.Add(item);
                    sequences.Add(_openSequences.Dequeue());
                }
                _openBytes -= bytes;
                return new Chunk(this, sequences.ToArray(), items.ToArray());
            }
        }

        internal bool IsPending(long sequence)
        {
            lock (_sync) return !_stopped && _slots[sequence & _mask].State == Pending;
        }

        /// <summary>Completes a batch of items that succeeded on one worker, under one lock and with one wake-up.</summary>
        internal void ItemsSucceeded(List<CompletedItem> items, int workerId, int processId, DateTime receivedUtc, string? hostName = null)
        {
            lock (_sync)
            {
                if (_stopped) return;
                foreach (var item in items)
                {
                    ref Slot slot = ref _slots[item.Sequence & _mask];
                    if (slot.State != Pending) continue;
                    if (slot.Published > 0 && item.ChunkId < slot.AttemptChunk) continue; // an earlier attempt's: a later one runs
                    slot.Attempts++;
                    var duration = TimeSpan.FromTicks(item.Micros * 10);
                    var records = FinalRecordsLocked(ref slot, item.ChunkId, item.Records);
                    CompleteLocked(item.Sequence, ref slot, new ItemResult(item.Sequence, slot.Tag, records, null, workerId, processId, receivedUtc - duration, duration, slot.Attempts, hostName), pulse: false);
                }
                _progress.Record(Stopwatch.GetTimestamp(), items.Count);
                PulseLocked();
            }
            CheckDone();
        }

        /// <summary>
        /// An item failed (error or timeout) in the attempt run by chunk <paramref name="chunkId"/>; returns a chunk to
        /// run it again while retries remain, else reports the failure. A retried attempt's unpublished records are
        /// dropped (as ever); those it already published stay, and the retry skips as many.
        /// </summary>
        internal Chunk? ItemFailed(long sequence, long chunkId, byte[] item, Exception error, IReadOnlyList<OutputRecord> records, int workerId, int processId, DateTime started, TimeSpan duration, string? hostName = null)
        {
            lock (_sync)
            {
                ref Slot slot = ref _slots[sequence & _mask];
                if (_stopped || slot.State != Pending) return null;
                slot.Attempts++;
                if (slot.Attempts <= Options.RetryCount) return new Chunk(this, new[] { sequence }, new[] { item });
                CompleteLocked(sequence, ref slot, new ItemResult(sequence, slot.Tag, FinalRecordsLocked(ref slot, chunkId, records), error, workerId, processId, started, duration, slot.Attempts, hostName));
            }
            CheckDone();
            return null;
        }

        /// <summary>
        /// A worker died while running this item: run it again alone, or report it as poison. A death the item caused
        /// (exit code, crash signal, garbled stream) counts under <see cref="MapOptions.MaxCrashesPerItem"/>; a
        /// signal from <paramref name="outside"/> counts, under <see cref="MapOptions.MaxKillsPerItem"/>, only when
        /// it ended a run of the item alone (<paramref name="isolated"/>). <paramref name="error"/> gets the count.
        /// <paramref name="hostName"/> is the worker's host, for the result (null for a local worker).
        /// </summary>
        internal Chunk? ItemCrashed(long sequence, byte[] item, bool isolated, bool outside, Func<int, WorkerTerminatedException> error, int workerId, int processId, DateTime started, TimeSpan duration, string? hostName = null)
        {
            lock (_sync)
            {
                ref Slot slot = ref _slots[sequence & _mask];
                if (_stopped || slot.State != Pending) return null;
                slot.Attempts++;
                int times;
                if (outside)
                {
                    if (isolated) slot.Kills++;
                    if (slot.Kills < Options.MaxKillsPerItem) return new Chunk(this, new[] { sequence }, new[] { item }, isolated: true);
                    times = slot.Kills;
                }
                else
                {
                    slot.Crashes++;
                    if (slot.Crashes < Options.MaxCrashesPerItem) return new Chunk(this, new[] { sequence }, new[] { item }, isolated: true);
                    times = slot.Crashes;
                }
                CompleteLocked(sequence, ref slot, new ItemResult(sequence, slot.Tag, FinalRecordsLocked(ref slot, 0, Array.Empty<OutputRecord>()), error(times), workerId, processId, started, duration, slot.Attempts, hostName));
            }
            CheckDone();
            return null;
        }

        /// <summary>
        /// Records item <paramref name="sequence"/> sent while it runs, in the attempt of chunk <paramref name="chunkId"/>,
        /// from <paramref name="worker"/>'s reader thread. Records at positions already published (by an earlier
        /// attempt) are skipped; the rest are published in the slot, where a streaming consumer can take them.
        /// Bounded: while <see cref="MapOptions.MaxHeldRecordBytes"/> are held, this blocks (the worker is not read,
        /// and blocks on its own output) as long as that is safe: while the consumer has something to take, or while
        /// the item whose turn it is (ordered) runs on another worker. Otherwise nothing would wake it, so the records
        /// are taken over the bound.
        /// </summary>
        internal void ItemRecords(long sequence, long chunkId, OutputRecord[] records, WorkerProcess worker)
        {
            while (true)
            {
                long head;
                lock (_sync)
                {
                    if (!MustHoldBackLocked(sequence, out bool consumerCanTake))
                    {
                        PublishLocked(sequence, chunkId, records);
                        return;
                    }
                    if (consumerCanTake)
                    {
                        WaitLocked(() => !MustHoldBackLocked(sequence, out bool takeable) || !takeable, HoldBackRecheck, CancellationToken.None);
                        continue;
                    }
                    head = _lowWater;
                }
                // Only the item whose turn it is can release ordered records; held back only while another worker runs it.
                if (!_pool.RunsElsewhere(this, head, worker))
                {
                    lock (_sync) PublishLocked(sequence, chunkId, records);
                    return;
                }
                lock (_sync) WaitLocked(() => _lowWater != head || !MustHoldBackLocked(sequence, out _), HoldBackRecheck, CancellationToken.None);
            }
        }

        /// <summary>How often a reader held back by the bound looks again at what it waits for.</summary>
        private static readonly TimeSpan HoldBackRecheck = TimeSpan.FromMilliseconds(50);

        /// <summary>True while records of <paramref name="sequence"/> should wait for room: the bound is reached and someone else can make room.</summary>
        private bool MustHoldBackLocked(long sequence, out bool consumerCanTake)
        {
            Debug.Assert(Monitor.IsEntered(_sync));
            consumerCanTake = false;
            if (_stopped || _slots[sequence & _mask].State != Pending || _heldBytes < Options.MaxHeldRecordBytes) return false;
            consumerCanTake = CanTakeLocked();
            return consumerCanTake || (Options.Ordered && sequence > _lowWater);
        }

        private void PublishLocked(long sequence, long chunkId, OutputRecord[] records)
        {
            Debug.Assert(Monitor.IsEntered(_sync));
            ref Slot slot = ref _slots[sequence & _mask];
            if (_stopped || slot.State != Pending || chunkId < slot.AttemptChunk) return;
            if (chunkId > slot.AttemptChunk)
            {
                slot.AttemptChunk = chunkId;
                slot.Seen = 0;
            }
            bool had = slot.Held != null;
            foreach (var record in records)
            {
                if (slot.Seen++ < slot.Published) continue; // an earlier attempt published it
                slot.Published++;
                (slot.Held ??= new List<OutputRecord>()).Add(record);
                slot.HeldBytes += record.Data.Length;
                _heldBytes += record.Data.Length;
            }
            if (had || slot.Held == null || !Options.StreamRecords) return;
            if (!Options.Ordered && !slot.Queued)
            {
                slot.Queued = true;
                _readyOrder.Enqueue(sequence);
            }
            PulseLocked();
        }

        /// <summary>
        /// The records of an item's final result: those published and not yet taken, then those of the final attempt
        /// (chunk <paramref name="chunkId"/>; 0: none) past what was published.
        /// </summary>
        private IReadOnlyList<OutputRecord> FinalRecordsLocked(ref Slot slot, long chunkId, IReadOnlyList<OutputRecord> records)
        {
            Debug.Assert(Monitor.IsEntered(_sync));
            if (slot.Published == 0) return records;
            int seen = chunkId == slot.AttemptChunk ? slot.Seen : 0;
            var all = new List<OutputRecord>((slot.Held?.Count ?? 0) + records.Count);
            if (slot.Held != null) all.AddRange(slot.Held);
            ReleaseHeldLocked(ref slot);
            for (int i = 0; i < records.Count; i++)
                if (seen + i >= slot.Published) all.Add(records[i]);
            return all;
        }

        private void ReleaseHeldLocked(ref Slot slot)
        {
            Debug.Assert(Monitor.IsEntered(_sync));
            _heldBytes -= slot.HeldBytes;
            slot.Held = null;
            slot.HeldBytes = 0;
        }

        /// <summary>Stops the map with <paramref name="error"/> (definition failure, broken pool, run timeout, termination).</summary>
        internal void Stop(Exception error)
        {
            lock (_sync)
            {
                if (_stopped || AllCompletedLocked()) return;
                _stopped = true;
                _fault = error;
                _openItems.Clear();
                _openSequences.Clear();
                _openBytes = 0;
                PulseLocked();
            }
            _pool.OnMapStopped(this);
            MarkReleased();
        }

        // ---- internals ---------------------------------------------------------------------------

        private void OpenLocked(long sequence, byte[] item)
        {
            Debug.Assert(Monitor.IsEntered(_sync));
            _openSequences.Enqueue(sequence);
            _openItems.Enqueue(item);
            _openBytes += item.Length;
        }

        private bool IsFullLocked()
        {
            Debug.Assert(Monitor.IsEntered(_sync));
            return _openItems.Count >= Sizer.NextSize || _openBytes >= MaxChunkBytes;
        }

        /// <summary>True the first time a full chunk is open since the pool last took one: the pool then hands it to a worker with room, if any.</summary>
        private bool ShouldPokeLocked()
        {
            Debug.Assert(Monitor.IsEntered(_sync));
            if (_pokedPool || !IsFullLocked()) return false;
            _pokedPool = true;
            return true;
        }

        private void CompleteLocked(long sequence, ref Slot slot, ItemResult result, bool pulse = true)
        {
            Debug.Assert(Monitor.IsEntered(_sync));
            slot.Result = result;
            slot.State = Completed;
            _completed++;
            if (result.Succeeded) _succeeded++; else _failed++;
            if (!Options.Ordered && !slot.Queued)
            {
                slot.Queued = true;
                _readyOrder.Enqueue(sequence);
            }
            if (!pulse) return;
            _progress.Record(Stopwatch.GetTimestamp());
            PulseLocked();
        }

        private bool CanTakeLocked()
        {
            Debug.Assert(Monitor.IsEntered(_sync));
            if (!Options.Ordered) return _readyOrder.Count > 0;
            if (_lowWater >= _submitted) return false;
            ref Slot head = ref _slots[_lowWater & _mask];
            return head.State == Completed || (head.Held != null && Options.StreamRecords);
        }

        private bool TryTakeLocked(out ItemResult result)
        {
            Debug.Assert(Monitor.IsEntered(_sync));
            result = null!;
            if (!CanTakeLocked()) return false;
            long sequence = Options.Ordered ? _lowWater : _readyOrder.Dequeue();
            ref Slot slot = ref _slots[sequence & _mask];
            slot.Queued = false;
            if (slot.State != Completed)
            {
                // A running item's streamed records; its final result comes later (queued again when it completes).
                result = new ItemResult(sequence, slot.Tag, slot.Held!, null, 0, 0, default, TimeSpan.Zero, slot.Attempts, isPartial: true);
                ReleaseHeldLocked(ref slot);
                PulseLocked();
                return true;
            }
            result = slot.Result!;
            slot = new Slot { State = Taken };
            _taken++;
            while (_lowWater < _submitted && _slots[_lowWater & _mask].State == Taken)
            {
                _slots[_lowWater & _mask].State = Empty;
                _lowWater++;
            }
            // A take frees room, which only a waiting feeder wants: wake it when its room is there, anyone else as before.
            if (_waiters > _roomWaiters || FreeSlotsLocked >= _roomWanted) PulseLocked();
            return true;
        }

        private bool CanTakeOrFinishedLocked()
        {
            Debug.Assert(Monitor.IsEntered(_sync));
            return CanTakeLocked() || FinishedLocked();
        }

        private bool AllCompletedLocked()
        {
            Debug.Assert(Monitor.IsEntered(_sync));
            return _stopped || (_inputComplete && _completed == _submitted);
        }

        private bool FinishedLocked()
        {
            Debug.Assert(Monitor.IsEntered(_sync));
            return _released && ((_inputComplete && _taken == _submitted) || (_stopped && !CanTakeLocked()));
        }

        private void ThrowIfStoppedLocked()
        {
            Debug.Assert(Monitor.IsEntered(_sync));
            if (_stopped) throw _fault ?? new OperationCanceledException();
        }

        private void CheckDone()
        {
            lock (_sync)
            {
                if (_doneNotified || !AllCompletedLocked() || _stopped) return;
                _doneNotified = true;
            }
            _pool.OnMapCompleted(this);
            MarkReleased();
        }

        private void MarkReleased()
        {
            lock (_sync)
            {
                _released = true;
                PulseLocked();
            }
        }

        private void PulseLocked()
        {
            Debug.Assert(Monitor.IsEntered(_sync));
            if (_waiters > 0) Monitor.PulseAll(_sync);
        }

        private static readonly WaitCallback WakeWaiters = state =>
        {
            var map = (MapRun)state!;
            lock (map._sync) Monitor.PulseAll(map._sync);
        };

        /// <summary>Cancellation callback: lock-free, it only queues the wake-up (see <see cref="WaitLocked"/>).</summary>
        private static void WakeWaitersLater(object? state) => ThreadPool.UnsafeQueueUserWorkItem(WakeWaiters, state);

        /// <summary>Waits on this map's monitor until <paramref name="condition"/> holds; cancellation throws, a timeout returns false.</summary>
        private bool WaitLocked(Func<bool> condition, TimeSpan timeout, CancellationToken cancellationToken)
        {
            Debug.Assert(Monitor.IsEntered(_sync));
            if (condition()) return true;
            long deadline = timeout == Timeout.InfiniteTimeSpan ? long.MaxValue : Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
            // The callback must not take _sync: this thread disposes the registration while holding _sync, and disposing
            // waits for a callback that is already running, so a callback blocked on _sync would deadlock both threads
            // (Ctrl+C landing as results wake the consumer). It hands the wake-up to the thread pool instead.
            using var registration = cancellationToken.CanBeCanceled
                ? cancellationToken.Register(WakeWaitersLater, this)
                : default;
            _waiters++;
            try
            {
                while (!condition())
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    long left = deadline - Stopwatch.GetTimestamp();
                    if (left <= 0) return false;
                    int ms = deadline == long.MaxValue ? Timeout.Infinite : (int)Math.Min(int.MaxValue, Math.Max(1, left * 1000 / Stopwatch.Frequency));
                    Monitor.Wait(_sync, ms);
                }
                return true;
            }
            finally { _waiters--; }
        }
    }
}
