// The plain .NET worker host: runs static .NET methods for a pool, speaking the protocol on stdio.
return ProcessPool.Engine.Worker.WorkerMain.RunMethodWorker();
