using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Management.Automation;
using System.Threading;

namespace ProcessPool.Commands
{
    /// <summary>
    /// <para type="synopsis">Gets the results of maps started with Invoke-PoolMap -AsJob.</para>
    /// <para type="description">Writes what the job has ready (outputs, then errors and other records, through this command so -ErrorAction and friends apply); with -Wait, keeps writing until the job ends or -Timeout passes.</para>
    /// </summary>
    [Cmdlet(VerbsCommunications.Receive, "PoolResult")]
    [OutputType(typeof(object))]
    public sealed class ReceivePoolResultCommand : PSCmdlet
    {
        private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(50);
        private readonly ManualResetEventSlim _stopping = new ManualResetEventSlim();

        /// <summary>The jobs to read, from Invoke-PoolMap -AsJob or Get-Job.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
        [ValidateNotNull]
        public PoolMapJob[] Job { get; set; } = null!;

        /// <summary>Waits for the job to end, writing results as they arrive.</summary>
        [Parameter]
        public SwitchParameter Wait { get; set; }

        /// <summary>With -Wait, the longest to wait in seconds; then what has arrived is written and the command returns.</summary>
        [Parameter]
        [ValidateRange(0, int.MaxValue)]
        public int Timeout { get; set; } = -1;

        /// <summary>Leaves the results in the job, so they can be received again.</summary>
        [Parameter]
        public SwitchParameter Keep { get; set; }

        /// <summary>Writes each job's results.</summary>
        protected override void ProcessRecord()
        {
            var clock = Stopwatch.StartNew();
            foreach (var job in Job)
            {
                var cursor = new Cursor(job, Keep);
                while (true)
                {
                    bool done = job.IsDone; // read before draining, so nothing that arrives after is missed
                    cursor.WriteAvailable(this);
                    if (!Wait || done) break;
                    if (Timeout >= 0 && clock.Elapsed >= TimeSpan.FromSeconds(Timeout)) break;
                    if (_stopping.Wait(Poll)) throw new PipelineStoppedException();
                }
            }
        }

        /// <summary>Ctrl+C ends the wait; the job keeps running.</summary>
        protected override void StopProcessing() => _stopping.Set();

        /// <summary>Reads a job's streams in order, removing what it read unless -Keep.</summary>
        private sealed class Cursor
        {
            private readonly PoolMapJob _job;
            private readonly bool _keep;
            private readonly int[] _read = new int[7];

            public Cursor(PoolMapJob job, bool keep)
            {
                _job = job;
                _keep = keep;
            }

            public void WriteAvailable(Cmdlet cmdlet)
            {
                foreach (var o in Take(_job.Output, 0)) cmdlet.WriteObject(o);
                foreach (var e in Take(_job.Error, 1)) cmdlet.WriteError(e);
                foreach (var w in Take(_job.Warning, 2)) cmdlet.WriteWarning(w.Message);
                foreach (var v in Take(_job.Verbose, 3)) cmdlet.WriteVerbose(v.Message);
                foreach (var d in Take(_job.Debug, 4)) cmdlet.WriteDebug(d.Message);
                foreach (var i in Take(_job.Information, 5)) cmdlet.WriteInformation(i);
                foreach (var p in Take(_job.Progress, 6)) cmdlet.WriteProgress(p);
            }

            private IList<T> Take<T>(PSDataCollection<T> stream, int index)
            {
                if (!_keep) return stream.ReadAll();
                var items = new List<T>();
                for (int i = _read[index]; i < stream.Count; i++) items.Add(stream[i]);
                _read[index] += items.Count;
                return items;
            }
        }
    }
}
