using System;

namespace ProcessPool.Engine
{
    /// <summary>A snapshot of a map's live counters, for progress bars and job views.</summary>
    public sealed class MapProgress
    {
        internal MapProgress(long submitted, long completed, long succeeded, long failed, long taken, long? total, double rate, TimeSpan elapsed, bool finished)
        {
            Submitted = submitted;
            Completed = completed;
            Succeeded = succeeded;
            Failed = failed;
            Taken = taken;
            Total = total;
            Rate = rate;
            Elapsed = elapsed;
            IsFinished = finished;
        }

        /// <summary>Items submitted so far.</summary>
        public long Submitted { get; }
        /// <summary>Items with a final result (success or failure).</summary>
        public long Completed { get; }
        /// <summary>Items that succeeded.</summary>
        public long Succeeded { get; }
        /// <summary>Items that failed.</summary>
        public long Failed { get; }
        /// <summary>Results the consumer has taken.</summary>
        public long Taken { get; }
        /// <summary>Submitted but not yet completed.</summary>
        public long InFlight => Submitted - Completed;
        /// <summary>The expected total, when known.</summary>
        public long? Total { get; }
        /// <summary>Completions per second over the last few seconds.</summary>
        public double Rate { get; }
        /// <summary>Time since the map started.</summary>
        public TimeSpan Elapsed { get; }
        /// <summary>True when no more results will come.</summary>
        public bool IsFinished { get; }
        /// <summary>Percent complete, or -1 when the total is unknown.</summary>
        public int PercentComplete => ProgressEstimator.Percent(Completed, Total);
        /// <summary>Estimated time left, when the total is known.</summary>
        public TimeSpan? Remaining => ProgressEstimator.Remaining(Completed, Total, Rate);
    }
}
