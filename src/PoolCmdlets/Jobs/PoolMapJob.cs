using System;
using System.Management.Automation;
using System.Threading;
using ProcessPool.Commands.Mapping;
using ProcessPool.Engine;
using ProcessPool.Engine.Diagnostics;

namespace ProcessPool.Commands
{
    /// <summary>
    /// A map started with <c>Invoke-PoolMap -AsJob</c>: a real PowerShell job in the session's job repository, so
    /// Get-Job, Wait-Job, Receive-Job, Stop-Job and Remove-Job work on it, and Receive-PoolResult reads it.
    /// A background thread takes the map's results into the job's streams (that is what a job is for: results wait
    /// there until someone receives them); the pipeline thread that started the job only feeds it.
    /// </summary>
    public sealed class PoolMapJob : Job
    {
        private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(200);

        private readonly WorkerPool _pool;
        private readonly MapRun _map;
        private readonly ResultWriter _writer;
        private readonly JobLogWriter? _log;
        private readonly Thread _drain;
        private readonly PoolEventRelay _events;
        private readonly ProgressReporter? _progress;
        private readonly JobSink _sink;
        private int _stopRequested;

        internal PoolMapJob(string command, WorkerPool pool, MapOptions options, bool methodResults, JobLogWriter? log, ProgressReporter? progress)
            : base(command)
        {
            PSJobTypeName = nameof(PoolMapJob);
            _pool = pool;
            _log = log;
            _progress = progress;
            _sink = new JobSink(this);
            _writer = new ResultWriter(_sink, methodResults, log) { ProgressParentId = progress?.ActivityId ?? -1 };
            _events = new PoolEventRelay(pool);
            try { _map = pool.StartMap(options); }
            catch
            {
                _events.Dispose();
                throw;
            }
            _drain = new Thread(DrainLoop) { IsBackground = true, Name = $"ProcessPool job {Id}" };
            SetJobState(JobState.Running);
            _drain.Start();
        }

        /// <summary>The pool the job runs on.</summary>
        public string PoolName => _pool.Name;

        /// <summary>Live counters of the map: submitted, completed, failed, rate, ETA.</summary>
        public MapProgress MapProgress => _map.GetProgress();

        /// <summary>The pool the job runs on.</summary>
        public override string Location => _pool.Name;

        /// <summary>Items completed (of the total, once input is complete) and failures.</summary>
        public override string StatusMessage
        {
            get
            {
                var p = _map.GetProgress();
                return ProgressText.Status(p.Completed, p.Total, p.Failed, p.Rate, p.Remaining);
            }
        }

        /// <summary>True while any stream holds records not yet received.</summary>
        public override bool HasMoreData =>
            Output.Count > 0 || Error.Count > 0 || Warning.Count > 0 || Verbose.Count > 0 || Debug.Count > 0 || Information.Count > 0 || Progress.Count > 0;

        /// <summary>True once the job reached a final state (Completed, Failed or Stopped).</summary>
        internal bool IsDone => JobStateInfo.State is JobState.Completed or JobState.Failed or JobState.Stopped;

        /// <summary>Stops the map: pending items are dropped and workers running its items are stopped.</summary>
        public override void StopJob()
        {
            Interlocked.Exchange(ref _stopRequested, 1);
            if (!IsDone) SetJobState(JobState.Stopping);
            _map.Cancel();
            _drain.Join(TimeSpan.FromSeconds(10));
        }

        /// <summary>Feeds one item from the pipeline thread, waiting while the map is full; false when the job was stopped.</summary>
        internal bool Submit(byte[] item, object? tag, CancellationToken token)
        {
            while (true)
            {
                if (_map.IsStopped) return false;
                try
                {
                    if (_map.TrySubmit(item, tag, Poll, token)) return true;
                }
                catch (Exception) when (_map.IsStopped)
                {
                    return false; // the drain thread reports why it stopped
                }
            }
        }

        internal void CompleteInput()
        {
            if (!_map.IsStopped) _map.CompleteInput();
        }

        /// <summary>Stops the job without reporting a failure (the command that was feeding it was stopped).</summary>
        internal void Abandon() => StopJob();

        /// <inheritdoc />
        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                if (!_map.IsFinished) StopJob();
                _events.Dispose();
                _log?.Dispose();
            }
            base.Dispose(disposing);
        }

        private void DrainLoop()
        {
            try
            {
                while (true)
                {
                    _map.WaitForResult(Poll);
                    _events.Drain(message => Verbose.Add(new VerboseRecord(message)), writeWarning: message => Warning.Add(new WarningRecord(message)));
                    foreach (var result in _map.TakeAvailable()) _writer.Write(result);
                    _progress?.Update(_map, _sink);
                    if (_map.IsFinished) break;
                }
                _progress?.Complete(_sink);
                // As ForEach-Object -Parallel -AsJob: a job whose items failed ends Failed, with the reason set.
                var fault = _map.Fault;
                if (fault == null && _writer.FirstFailure is Exception failure) Fail(failure);
                else if (fault == null) SetJobState(JobState.Completed);
                else if (Volatile.Read(ref _stopRequested) == 1 || fault is OperationCanceledException) SetJobState(JobState.Stopped);
                else
                {
                    Error.Add(ErrorRecords.MapFault(fault, null));
                    Fail(fault);
                }
            }
            catch (Exception error)
            {
                Error.Add(ErrorRecords.MapFault(error, null));
                Fail(error);
            }
            finally
            {
                _events.Dispose();
                _log?.Dispose();
            }
        }

        /// <summary>
        /// The job's state setter that also records <c>JobStateInfo.Reason</c>; PowerShell's own jobs use it, but it is
        /// not public. Null when this PowerShell lacks it: the job then fails without a reason.
        /// </summary>
        private static readonly System.Reflection.MethodInfo? SetStateWithReason = typeof(Job).GetMethod(
            "SetJobState", System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic, null, new[] { typeof(JobState), typeof(Exception) }, null);

        /// <summary>Ends the job Failed with <paramref name="reason"/> in JobStateInfo.Reason, as <c>ForEach-Object -Parallel -AsJob</c> does.</summary>
        private void Fail(Exception reason)
        {
            if (SetStateWithReason != null)
            {
                try
                {
                    SetStateWithReason.Invoke(this, new object[] { JobState.Failed, reason });
                    return;
                }
                catch (System.Reflection.TargetInvocationException) when (JobStateInfo.State != JobState.Failed) { /* fall back to the plain setter */ }
            }
            if (JobStateInfo.State != JobState.Failed) SetJobState(JobState.Failed);
        }

        /// <summary>Writes a map's records into the job's streams, where Receive-Job and Receive-PoolResult find them.</summary>
        private sealed class JobSink : IRecordSink
        {
            private readonly PoolMapJob _job;

            public JobSink(PoolMapJob job) => _job = job;

            public void WriteOutput(object? value) => _job.Output.Add(value == null ? null : PSObject.AsPSObject(value));
            public void WriteError(ErrorRecord record) => _job.Error.Add(record);
            public void WriteWarning(string message) => _job.Warning.Add(new WarningRecord(message));
            public void WriteVerbose(string message) => _job.Verbose.Add(new VerboseRecord(message));
            public void WriteDebug(string message) => _job.Debug.Add(new DebugRecord(message));
            public void WriteInformation(InformationRecord record) => _job.Information.Add(record);
            public void WriteProgress(ProgressRecord record) => _job.Progress.Add(record);
        }
    }
}
