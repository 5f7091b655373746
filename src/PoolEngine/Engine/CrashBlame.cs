using System;
using System.Collections.Generic;

namespace ProcessPool.Engine
{
    /// <summary>
    /// What becomes of the chunks a dead worker held. The item it was running is judged: re-run alone, or reported as
    /// timed out or poison once it has killed workers often enough; everything else simply runs again. Runs outside the
    /// pool's lock (a map's own lock is taken by <see cref="MapRun.ItemFailed"/> and <see cref="MapRun.ItemCrashed"/>).
    /// </summary>
    internal static class CrashBlame
    {
        /// <summary>The chunks to re-queue, ahead of new work, for the unfinished items of <paramref name="lost"/>.</summary>
        public static List<Chunk> Requeue(WorkerProcess worker, List<Chunk> lost, KillReason kill, long timedOut, Exception? failure, int? exitCode, int? signal)
        {
            var requeue = new List<Chunk>();
            for (int c = 0; c < lost.Count; c++)
            {
                var chunk = lost[c];
                int start = chunk.NextIndex;
                // Only the first chunk was running; the item it was on is judged, everything else simply runs again.
                if (c == 0 && start < chunk.Count && !IsInnocent(kill, timedOut, chunk, chunk.Sequences[start]))
                {
                    var retry = Blame(worker, kill, timedOut, chunk, start, failure, exitCode, signal);
                    if (retry != null) requeue.Add(retry);
                    start++;
                }
                var rest = Remaining(chunk, start);
                if (rest != null) requeue.Add(rest);
            }
            return requeue;
        }

        /// <summary>Decides the fate of the item a worker was running when it died; returns a chunk to re-run it, or null when it was reported or needs nothing.</summary>
        private static Chunk? Blame(WorkerProcess worker, KillReason kill, long timedOut, Chunk chunk, int index, Exception? failure, int? exitCode, int? signal)
        {
            long sequence = chunk.Sequences[index];
            byte[] item = chunk.Items[index];
            var now = DateTime.UtcNow;
            var ran = TimeSpan.FromSeconds(WorkerPool.Elapsed(worker.CurrentItemStartTicks) / 1000.0);
            switch (kill)
            {
                case KillReason.ItemTimeout when timedOut == sequence:
                    var timeout = chunk.Map.Options.ItemTimeout ?? TimeSpan.Zero;
                    return chunk.Map.ItemFailed(sequence, chunk.Id, item,
                        new ItemTimeoutException(sequence, $"ran longer than {timeout.TotalSeconds:0.###} s; {worker.Describe()} was killed and replaced.", timeout),
                        Array.Empty<OutputRecord>(), worker.Id, worker.ProcessId, now - ran, ran, worker.Group.HostName);
                default:
                    bool garbled = failure is ProtocolException { StreamEnded: false };
                    // A signal that usually comes from outside (a user, a supervisor, the OOM killer) is weak evidence:
                    // it counts against the item only when it ends a run of the item alone, and only at the
                    // MaxKillsPerItem-th time. An exit code, a crash signal or a garbled stream comes from the item.
                    bool outside = kill == KillReason.None && !garbled && StartFailure.IsOutsideSignal(signal);
                    string how = failure is ProtocolException && !outside ? $"a protocol error ({failure.Message})" : WorkerPool.DescribeExit(exitCode, signal);
                    return chunk.Map.ItemCrashed(sequence, item, chunk.Isolated, outside,
                        times => new WorkerTerminatedException(sequence, outside
                            ? $"was killed each of the {times} times it ran alone: {worker.Describe()} ended with {how}."
                            : $"killed its worker every time it ran: {worker.Describe()} ended with {how}.", exitCode, signal),
                        worker.Id, worker.ProcessId, now - ran, ran, worker.Group.HostName);
            }
        }

        /// <summary>
        /// True when the worker's death was the pool's doing and not this item's: the item is simply run again.
        /// An isolated re-run is judged only if the worker confirmed it started it: a worker that died before that
        /// (killed from outside while starting, say) proves nothing about the item.
        /// </summary>
        private static bool IsInnocent(KillReason kill, long timedOut, Chunk chunk, long sequence) => kill switch
        {
            KillReason.None or KillReason.ProtocolError => chunk.Isolated && !chunk.Started,
            KillReason.ItemTimeout => timedOut != sequence,
            _ => true,
        };

        private static Chunk? Remaining(Chunk chunk, int from)
        {
            var sequences = new List<long>();
            var items = new List<byte[]>();
            for (int i = from; i < chunk.Count; i++)
            {
                if (!chunk.Map.IsPending(chunk.Sequences[i])) continue;
                sequences.Add(chunk.Sequences[i]);
                items.Add(chunk.Items[i]);
            }
            return sequences.Count == 0 ? null : new Chunk(chunk.Map, sequences.ToArray(), items.ToArray());
        }
    }
}
