using System;
using System.Management.Automation;
using System.Threading;
using ProcessPool.Engine;
using ProcessPool.Engine.Diagnostics;

namespace ProcessPool.Commands.Mapping
{
    /// <summary>
    /// The map's own progress bar: one activity id per map, throttled by <see cref="ProgressThrottle"/> (nothing for
    /// runs under a second, four updates a second), completed/total when the total is known, rate and ETA, and a
    /// final Completed record whenever a bar was shown. Pipeline thread only.
    /// </summary>
    internal sealed class ProgressReporter
    {
        private const string Activity = "Invoke-PoolMap";
        private static int _nextActivityId = 0x5050;

        /// <summary>A job keeps every progress record until it is received, so its bar updates once a second rather than four times.</summary>
        public static readonly TimeSpan JobInterval = TimeSpan.FromSeconds(1);

        private readonly ProgressThrottle _throttle;
        private readonly int _activityId = Interlocked.Increment(ref _nextActivityId);
        private readonly string _pool;

        public ProgressReporter(string pool, TimeSpan? interval = null)
        {
            _pool = pool;
            _throttle = new ProgressThrottle(interval: interval);
        }

        /// <summary>The map's activity id: items' own progress records are shown as its children.</summary>
        public int ActivityId => _activityId;

        /// <summary>
        /// The time left goes only into <see cref="ProgressRecord.SecondsRemaining"/>, which every host shows its own way
        /// ("4s" in the minimal view, "00:00:04 remaining" in the classic one); the status text does not repeat it.
        /// </summary>
        public void Update(MapRun map, IRecordSink sink)
        {
            var progress = map.GetProgress();
            if (progress.IsFinished || !_throttle.ShouldUpdate(progress.Elapsed)) return;
            sink.WriteProgress(new ProgressRecord(_activityId, Activity, $"{ProgressText.Status(progress.Completed, progress.Total, progress.Failed, progress.Rate, remaining: null)} ({_pool} pool)")
            {
                PercentComplete = Math.Max(-1, progress.PercentComplete),
                SecondsRemaining = ProgressText.SecondsRemaining(progress.Remaining),
            });
        }

        public void Complete(IRecordSink sink)
        {
            if (_throttle.ShouldComplete())
                sink.WriteProgress(new ProgressRecord(_activityId, Activity, "Completed") { RecordType = ProgressRecordType.Completed });
        }
    }
}
