using System;

namespace ProcessPool.Engine
{
    /// <summary>
    /// Chooses how many items the next chunk holds. An explicit size always wins. Otherwise chunks start at one item,
    /// so the first results come back at once, and grow toward <c>target / time per item</c>, measured by the workers
    /// on finished chunks (growth at most ×8 a step, so one fast chunk cannot overshoot). Bounded by the in-flight
    /// bound and, with a known count, by about four chunks per worker so the tail stays balanced. Once input is
    /// complete the count left is known even without one: a chunk then takes at most half a worker's share of it.
    /// Thread-safety: read by the producer, updated by worker reader threads; a lost update only delays growth.
    /// </summary>
    internal sealed class ChunkSizer
    {
        /// <summary>Largest adaptive chunk: past this, per-chunk overhead is already negligible and memory is not.</summary>
        public const int MaxAdaptiveSize = 4096;

        private readonly int? _explicit;
        private readonly double _targetMicros;
        private readonly int _cap;
        private readonly int _workers;
        private readonly object _sync = new object();
        private double _microsPerItem = -1;
        private double _lastChunkMicros = -1;
        private volatile int _size;

        public ChunkSizer(int? explicitSize, TimeSpan target, long? expectedCount, int workers, int? maxTasksPerWorker)
        {
            _explicit = explicitSize;
            _targetMicros = Math.Max(1, target.TotalMilliseconds * 1000);
            _workers = Math.Max(1, workers);
            long cap = MaxAdaptiveSize;
            if (expectedCount is long count && count > 0) cap = Math.Min(cap, Math.Max(1, (count + workers * 4 - 1) / (workers * 4)));
            if (maxTasksPerWorker is int tasks) cap = Math.Min(cap, tasks);
            _cap = (int)Math.Max(1, cap);
            _size = explicitSize ?? 1;
        }

        /// <summary>Size the next chunk should have.</summary>
        public int NextSize => _size;

        /// <summary>
        /// Size of a chunk cut now, with <paramref name="open"/> items not yet in a chunk. After the end of input they
        /// are all that is left, so a chunk takes at most <c>open / (2 × workers)</c> of them (guided self-scheduling):
        /// chunks shrink toward the end and no worker is left with a full-size chunk, and another prefetched behind
        /// it, while the others have nothing.
        /// </summary>
        public int SizeFor(long open, bool inputComplete)
        {
            int size = _size;
            if (_explicit != null || !inputComplete) return size;
            long share = (open + 2L * _workers - 1) / (2L * _workers);
            return (int)Math.Max(1, Math.Min(size, share));
        }

        /// <summary>Largest size this sizer will ever return.</summary>
        public int MaxSize => _explicit ?? _cap;

        /// <summary>Worker-side duration of the most recent chunk, in microseconds (-1 before the first).</summary>
        public double LastChunkMicros => _lastChunkMicros;

        /// <summary>Records a finished chunk's worker-side time.</summary>
        public void Observe(int items, long micros)
        {
            if (items <= 0) return;
            lock (_sync)
            {
                _lastChunkMicros = micros;
                double sample = Math.Max(0.05, micros / (double)items);
                // A faster sample is taken as it is: the slow ones are mostly a worker's cold first chunk (JIT), which an
                // average would remember for many chunks. A slower sample is averaged in, so one pause does not halve the size.
                _microsPerItem = _microsPerItem < 0 || sample < _microsPerItem ? sample : 0.5 * _microsPerItem + 0.5 * sample;
                if (_explicit != null) return;
                double ideal = _targetMicros / _microsPerItem;
                double grown = Math.Min(ideal, Math.Max(8, _size * 8.0));
                _size = (int)Math.Max(1, Math.Min(_cap, grown));
            }
        }
    }
}
