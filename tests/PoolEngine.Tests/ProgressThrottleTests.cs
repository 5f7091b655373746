using System;
using System.Linq;
using ProcessPool.Engine.Diagnostics;
using Xunit;

namespace ProcessPool.Engine.Tests
{
    public sealed class ProgressThrottleTests
    {
        private static TimeSpan Ms(double ms) => TimeSpan.FromMilliseconds(ms);

        [Fact]
        public void ShouldUpdate_RunShorterThanQuietPeriod_ShowsNothingAndOwesNoCompletion()
        {
            var throttle = new ProgressThrottle();
            for (int ms = 0; ms < 1000; ms += 10) Assert.False(throttle.ShouldUpdate(Ms(ms)));
            Assert.False(throttle.ShouldComplete());
        }

        [Fact]
        public void ShouldUpdate_LongRun_UpdatesAtMostFourTimesASecond()
        {
            var throttle = new ProgressThrottle();
            int updates = Enumerable.Range(0, 1000).Count(i => throttle.ShouldUpdate(Ms(1000 + i * 5))); // 5 s of polling every 5 ms
            Assert.Equal(20, updates);
        }

        [Fact]
        public void ShouldUpdate_FirstCallAfterQuietPeriod_UpdatesAtOnce()
        {
            var throttle = new ProgressThrottle(Ms(1000), Ms(250));
            Assert.True(throttle.ShouldUpdate(Ms(1000)));
            Assert.False(throttle.ShouldUpdate(Ms(1249)));
            Assert.True(throttle.ShouldUpdate(Ms(1250)));
        }

        [Fact]
        public void ShouldComplete_AfterAnUpdate_IsOwedExactlyOnce()
        {
            var throttle = new ProgressThrottle(Ms(0), Ms(100));
            Assert.True(throttle.ShouldUpdate(Ms(0)));
            Assert.True(throttle.ShouldComplete());
            Assert.False(throttle.ShouldComplete());
        }

        [Fact]
        public void Constructor_NonPositiveInterval_Throws()
        {
            Assert.Throws<ArgumentOutOfRangeException>(() => new ProgressThrottle(Ms(0), Ms(0)));
            Assert.Throws<ArgumentOutOfRangeException>(() => new ProgressThrottle(Ms(-1), Ms(10)));
        }

        [Theory]
        [InlineData(1234, 10000L, 0, 512.4, 17.2, "1,234 of 10,000 items, 512/s, 0:18 left")]
        [InlineData(1234, null, 0, 512.4, null, "1,234 items, 512/s")]
        [InlineData(1, null, 0, 0.0, null, "1 item")]
        [InlineData(7, 9L, 2, 3.25, 0.6, "7 of 9 items, 3.3/s, 0:01 left, 2 failed")]
        [InlineData(5, 100L, 0, 0.25, 3800.0, "5 of 100 items, 0.25/s, 1:03:20 left")]
        public void Status_FormatsCountsRateEtaAndFailures(long completed, long? total, long failed, double rate, double? secondsLeft, string expected)
        {
            var remaining = secondsLeft is double s ? TimeSpan.FromSeconds(s) : (TimeSpan?)null;
            Assert.Equal(expected, ProgressText.Status(completed, total, failed, rate, remaining));
        }

        [Fact]
        public void SecondsRemaining_RoundsUpAndUsesMinusOneForUnknown()
        {
            Assert.Equal(-1, ProgressText.SecondsRemaining(null));
            Assert.Equal(2, ProgressText.SecondsRemaining(TimeSpan.FromSeconds(1.2)));
            Assert.Equal(0, ProgressText.SecondsRemaining(TimeSpan.FromSeconds(-3)));
        }
    }
}
