using System;
using System.Globalization;
using System.Text;

namespace ProcessPool.Engine.Diagnostics
{
    /// <summary>
    /// Decides when a progress bar is worth drawing: nothing for runs shorter than <see cref="QuietPeriod"/> (a bar that
    /// flashes for half a second is noise), then at most one update per <see cref="Interval"/> (a few a second is all a
    /// human reads, and every update costs the host a redraw), and a final Completed record whenever a bar was shown.
    /// Time is passed in, so the arithmetic is testable without a clock. Not thread-safe: one consumer thread uses it.
    /// </summary>
    public sealed class ProgressThrottle
    {
        private TimeSpan _last = TimeSpan.MinValue;

        /// <summary>Creates a throttle; the defaults are one second of quiet and four updates a second.</summary>
        public ProgressThrottle(TimeSpan? quietPeriod = null, TimeSpan? interval = null)
        {
            QuietPeriod = quietPeriod ?? TimeSpan.FromSeconds(1);
            Interval = interval ?? TimeSpan.FromMilliseconds(250);
            if (QuietPeriod < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(quietPeriod));
            if (Interval <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(interval));
        }

        /// <summary>Runs shorter than this show no progress at all.</summary>
        public TimeSpan QuietPeriod { get; }

        /// <summary>Least time between two updates.</summary>
        public TimeSpan Interval { get; }

        /// <summary>True once an update was allowed: the run must then end with a Completed record.</summary>
        public bool HasShown { get; private set; }

        /// <summary>True when an update should be written now, <paramref name="elapsed"/> after the run started; records that it was.</summary>
        public bool ShouldUpdate(TimeSpan elapsed)
        {
            if (elapsed < QuietPeriod) return false;
            if (HasShown && elapsed - _last < Interval) return false;
            _last = elapsed;
            HasShown = true;
            return true;
        }

        /// <summary>True when the run ends and a Completed record is owed (something was shown); afterwards false.</summary>
        public bool ShouldComplete()
        {
            if (!HasShown) return false;
            HasShown = false;
            return true;
        }
    }

    /// <summary>The words of a map's progress bar.</summary>
    public static class ProgressText
    {
        /// <summary>
        /// The status line: "1,234 of 10,000 items, 512/s, 0:17 left" when the total is known, "1,234 items, 512/s"
        /// when not, and ", 3 failed" when items failed. Invariant culture, so logs read the same everywhere.
        /// </summary>
        public static string Status(long completed, long? total, long failed, double rate, TimeSpan? remaining)
        {
            var text = new StringBuilder();
            text.Append(completed.ToString("N0", CultureInfo.InvariantCulture));
            if (total is long t) text.Append(" of ").Append(t.ToString("N0", CultureInfo.InvariantCulture));
            text.Append(completed == 1 && total == null ? " item" : " items");
            if (rate > 0) text.Append(", ").Append(Rate(rate)).Append("/s");
            if (remaining is TimeSpan left) text.Append(", ").Append(Duration(left)).Append(" left");
            if (failed > 0) text.Append(", ").Append(failed.ToString("N0", CultureInfo.InvariantCulture)).Append(" failed");
            return text.ToString();
        }

        /// <summary>A rate with sensible precision: "0.25", "3.5", "512", "12,345".</summary>
        public static string Rate(double perSecond) =>
            perSecond < 1 ? perSecond.ToString("0.##", CultureInfo.InvariantCulture)
            : perSecond < 10 ? perSecond.ToString("0.#", CultureInfo.InvariantCulture)
            : Math.Round(perSecond).ToString("N0", CultureInfo.InvariantCulture);

        /// <summary>A duration as "m:ss", or "h:mm:ss" from an hour up.</summary>
        public static string Duration(TimeSpan span)
        {
            if (span < TimeSpan.Zero) span = TimeSpan.Zero;
            long seconds = (long)Math.Ceiling(span.TotalSeconds);
            long h = seconds / 3600, m = seconds / 60 % 60, s = seconds % 60;
            return h > 0
                ? string.Format(CultureInfo.InvariantCulture, "{0}:{1:00}:{2:00}", h, m, s)
                : string.Format(CultureInfo.InvariantCulture, "{0}:{1:00}", m, s);
        }

        /// <summary>Seconds left as the host's progress record wants them: whole seconds, or -1 when unknown.</summary>
        public static int SecondsRemaining(TimeSpan? remaining) =>
            remaining is TimeSpan left ? (int)Math.Min(int.MaxValue, Math.Ceiling(Math.Max(0, left.TotalSeconds))) : -1;
    }
}
