using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;

namespace ProcessPool.Engine
{
    /// <summary>
    /// Hands chunks to workers. Re-runs and returned chunks wait in the ready queue, ahead of new work; new chunks are cut
    /// from the maps' open items at the moment a worker has room, in turn across maps, at the size each map measured
    /// last. A worker takes the chunk when it has the least queued work; it holds its running chunk and one more
    /// (up to <see cref="MaxPrefetch"/> when chunks take under a millisecond). All state is guarded by the pool's lock.
    /// </summary>
    internal sealed class Dispatcher
    {
        /// <summary>Most chunks a worker holds when its chunks are tiny, so the pipe round trip does not dominate.</summary>
        public const int MaxPrefetch = 16;

        /// <summary>
        /// Chunks a remote worker holds whatever their size: an ssh channel adds latency that a local pipe does not
        /// (two more processes and a network), so a remote worker gets one more chunk in hand
        /// to keep it busy while results and the next chunk cross.
        /// </summary>
        public const int RemotePrefetch = 3;

        private readonly WorkerPool _pool;
        private readonly LinkedList<Chunk> _ready = new LinkedList<Chunk>();
        private int _nextMapToCut;
        /// <summary>A worker was retired while the workers were being iterated: replace it once the loop is done.</summary>
        private bool _replaceRetired;

        public Dispatcher(WorkerPool pool) => _pool = pool;

        /// <summary>True when, after the last dispatch, a ready worker had nothing to do (the timer then offers it a partial chunk). Read without the lock.</summary>
        public volatile bool HasIdleWorker;

        /// <summary>Chunks waiting for a worker. Under the pool's lock.</summary>
        public int ReadyCountLocked
        {
            get
            {
                Debug.Assert(Monitor.IsEntered(_pool.Gate));
                return _ready.Count;
            }
        }

        /// <summary>Puts chunks back ahead of new work: they are older, and ordered output waits on them.</summary>
        public void RequeueLocked(IEnumerable<Chunk> chunks)
        {
            Debug.Assert(Monitor.IsEntered(_pool.Gate));
            foreach (var chunk in chunks.Reverse()) _ready.AddFirst(chunk);
        }

        /// <summary>Drops a stopped map's waiting chunks.</summary>
        public void RemoveLocked(MapRun map)
        {
            Debug.Assert(Monitor.IsEntered(_pool.Gate));
            for (var node = _ready.First; node != null;)
            {
                var next = node.Next;
                if (node.Value.Map == map) _ready.Remove(node);
                node = next;
            }
        }

        public void ClearLocked()
        {
            Debug.Assert(Monitor.IsEntered(_pool.Gate));
            _ready.Clear();
        }

        /// <summary>
        /// Hands chunks to workers with room: re-runs and returned chunks first (they are older), then chunks cut from
        /// the maps' open items at the moment a worker can take them.
        /// </summary>
        /// <param name="partial">Only the timer passes true: a worker idle at a tick takes whatever the producers have, so output streams while input trickles in, yet a busy producer is never cut into tiny chunks.</param>
        public void DispatchLocked(bool partial = false)
        {
            Debug.Assert(Monitor.IsEntered(_pool.Gate));
            while (true)
            {
                if (_ready.Count == 0 && !CutChunkLocked(partial)) break;
                var chunk = _ready.First!.Value;
                if (chunk.Map.IsStopped)
                {
                    _ready.RemoveFirst();
                    continue;
                }
                var worker = PickWorkerLocked(chunk);
                if (worker == null) break;
                _ready.RemoveFirst();
                if (worker.InFlight.Count == 0) worker.CurrentItemStartTicks = Stopwatch.GetTimestamp();
                chunk.Started = false;
                chunk.AwaitsStart = worker.SentMaps.Add(chunk.Map.Id) || chunk.Isolated; // the worker's rule too (WorkerLoop.RunChunk)
                worker.InFlight.Enqueue(chunk);
                worker.SendChunk(chunk);
            }
            HasIdleWorker = _ready.Count == 0 && _pool.Workers.Any(w => w.State == WorkerState.Ready && w.InFlight.Count == 0);
            if (_replaceRetired)
            {
                _replaceRetired = false;
                _pool.Starts.EnsureWorkersLocked();
            }
        }

        /// <summary>
        /// Cuts one chunk from the next map (in turn, so concurrent maps share the workers) for which some worker has
        /// room, and queues it; false when there is none.
        /// </summary>
        private bool CutChunkLocked(bool partial)
        {
            Debug.Assert(Monitor.IsEntered(_pool.Gate));
            var workers = _pool.Workers;
            var maps = _pool.Maps;
            bool idleWorker = partial && workers.Any(w => w.State == WorkerState.Ready && w.InFlight.Count == 0);
            for (int i = 0; i < maps.Count; i++)
            {
                var map = maps[(_nextMapToCut + i) % maps.Count];
                if (!workers.Any(w => w.State == WorkerState.Ready && HasRoomLocked(w, map))) continue;
                var chunk = map.TakeChunk(idleWorker);
                if (chunk == null) continue;
                _nextMapToCut = (_nextMapToCut + i + 1) % maps.Count;
                _ready.AddLast(chunk);
                return true;
            }
            return false;
        }

        /// <summary>
        /// The ready worker with the least queued work that can take <paramref name="chunk"/>, or null. An isolated
        /// re-run prefers a worker already warm for its map, so it runs in its true time rather than a fresh
        /// worker's cold start, and a death during it says more about the item.
        /// </summary>
        private WorkerProcess? PickWorkerLocked(Chunk chunk)
        {
            Debug.Assert(Monitor.IsEntered(_pool.Gate));
            WorkerProcess? best = null;
            foreach (var worker in _pool.Workers)
            {
                if (worker.State != WorkerState.Ready || !CanAcceptLocked(worker, chunk)) continue;
                if (best == null || Rank(worker) < Rank(best)) best = worker;
            }
            return best;

            int Rank(WorkerProcess w) => w.InFlight.Count + (chunk.Isolated && !w.WarmMaps.Contains(chunk.Map.Id) ? MaxPrefetch : 0);
        }

        /// <summary>
        /// A worker holds its running chunk and one more, so it never waits on a round trip; when chunks are tiny
        /// (under a millisecond) it may hold up to <see cref="MaxPrefetch"/>, or the pipe round trip would dominate.
        /// With a task limit it is never given more than its remaining budget; an idle worker whose budget cannot
        /// fit the chunk is retired instead, so the limit is a true upper bound.
        /// </summary>
        private bool CanAcceptLocked(WorkerProcess worker, Chunk chunk)
        {
            Debug.Assert(Monitor.IsEntered(_pool.Gate));
            if (_pool.Options.MaxTasksPerWorker is int maxTasks)
            {
                long queued = worker.ItemsDone + worker.InFlight.Sum(c => c.Count);
                if (queued + chunk.Count > maxTasks)
                {
                    if (worker.InFlight.Count == 0)
                    {
                        _pool.RetireLocked(worker, $"it ran {worker.ItemsDone} items and the next chunk would pass its limit of {maxTasks}");
                        worker.SendShutdown();
                        _replaceRetired = true; // not here: the caller is iterating the workers
                    }
                    return false;
                }
            }
            return HasRoomLocked(worker, chunk.Map);
        }

        private bool HasRoomLocked(WorkerProcess worker, MapRun map)
        {
            Debug.Assert(Monitor.IsEntered(_pool.Gate));
            int depth = worker.InFlight.Count;
            if (depth < (worker.Group.IsRemote ? RemotePrefetch : 2)) return true;
            double last = map.Sizer.LastChunkMicros;
            return depth < MaxPrefetch && last >= 0 && last < 1000;
        }
    }
}
