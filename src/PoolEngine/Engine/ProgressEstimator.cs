using System;
using System.Diagnostics;

namespace ProcessPool.Engine
{
    /// <summary>
    /// Progress arithmetic for a map: completion rate over a sliding window and, with a known total, percent and ETA.
    /// A window rather than the whole-run average so the rate follows a run that speeds up or slows down.
    /// </summary>
    internal sealed class ProgressEstimator
    {
        private const int Slots = 10;
        private static readonly long SlotTicks = Stopwatch.Frequency / 2; // 0.5 s per slot, 5 s window

        private readonly long[] _counts = new long[Slots];
        private readonly long[] _slotStart = new long[Slots];
        private readonly long _startTicks;

        public ProgressEstimator(long startTicks) => _startTicks = startTicks;

        public void Record(long nowTicks, int completed = 1)
        {
            long slot = (nowTicks - _startTicks) / SlotTicks;
            int index = (int)(slot % Slots);
            if (_slotStart[index] != slot + 1)
            {
                _slotStart[index] = slot + 1;
                _counts[index] = 0;
            }
            _counts[index] += completed;
        }

        /// <summary>Items per second over the last few seconds (or since the start, if shorter).</summary>
        public double Rate(long nowTicks)
        {
            long slot = (nowTicks - _startTicks) / SlotTicks;
            long total = 0;
            for (int i = 0; i < Slots; i++)
                if (_slotStart[i] != 0 && slot - (_slotStart[i] - 1) < Slots) total += _counts[i];
            double windowSeconds = Math.Min((nowTicks - _startTicks) / (double)Stopwatch.Frequency, Slots * 0.5);
            windowSeconds = Math.Max(windowSeconds, 0.05);
            return total / windowSeconds;
        }

        /// <summary>Percent done (0-100), or -1 when the total is unknown.</summary>
        public static int Percent(long completed, long? total)
        {
            if (total is not long t || t <= 0) return -1;
            return (int)Math.Min(100, completed * 100 / t);
        }

        /// <summary>Estimated time left, or null when the total or the rate is unknown.</summary>
        public static TimeSpan? Remaining(long completed, long? total, double rate)
        {
            if (total is not long t || rate <= 0) return null;
            long left = Math.Max(0, t - completed);
            return TimeSpan.FromSeconds(left / rate);
        }
    }
}
