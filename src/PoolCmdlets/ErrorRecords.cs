using System;
using System.Management.Automation;
using ProcessPool.Commands.Codec;
using ProcessPool.Engine;

namespace ProcessPool.Commands
{
    /// <summary>
    /// Every ErrorRecord the module writes is built here: a stable PascalCase id (what scripts and tests match on,
    /// never the message), the most specific category, the offending object as target, the cause kept as the exception.
    /// </summary>
    internal static class ErrorRecords
    {
        public const string PoolItemFailed = nameof(PoolItemFailed);
        public const string PoolItemTimeout = nameof(PoolItemTimeout);
        public const string PoolWorkerTerminated = nameof(PoolWorkerTerminated);
        public const string PoolBroken = nameof(PoolBroken);
        public const string PoolClosed = nameof(PoolClosed);
        public const string PoolMapDefinitionFailed = nameof(PoolMapDefinitionFailed);
        public const string PoolMapFailed = nameof(PoolMapFailed);
        public const string PoolRunTimeout = nameof(PoolRunTimeout);
        public const string UsingVariableNotFound = nameof(UsingVariableNotFound);
        public const string ItemNotSerializable = nameof(ItemNotSerializable);
        public const string PoolNotFound = nameof(PoolNotFound);
        public const string PoolNameInUse = nameof(PoolNameInUse);
        public const string PoolNameReserved = nameof(PoolNameReserved);
        public const string PoolThrottleLimitWithPool = nameof(PoolThrottleLimitWithPool);
        public const string PoolVariableNotFound = nameof(PoolVariableNotFound);
        public const string PoolFunctionNotFound = nameof(PoolFunctionNotFound);
        public const string PoolJobLogFailed = nameof(PoolJobLogFailed);
        public const string PoolRemoteError = nameof(PoolRemoteError);
        public const string PoolMethodSetupMissing = nameof(PoolMethodSetupMissing);
        public const string PoolHostFailed = nameof(PoolHostFailed);
        public const string PoolHostRefused = nameof(PoolHostRefused);

        /// <summary>A remote host whose workers could not start (unreachable, host key, authentication, no PowerShell 7): the pool goes on without it.</summary>
        public static ErrorRecord HostFailed(string host, string reason) =>
            new ErrorRecord(new BrokenPoolException($"Host {host} could not start workers and is left out of the pool: {reason}"), PoolHostFailed, ErrorCategory.ConnectionError, host);

        /// <summary>A host name or ssh option refused before anything ran (a leading '-', whitespace, StrictHostKeyChecking=no...).</summary>
        public static ErrorRecord RemoteRefused(ArgumentException refused, object target) =>
            new ErrorRecord(refused, PoolHostRefused, ErrorCategory.InvalidArgument, target);

        /// <summary>The non-terminating error of an item that failed: it threw, timed out, or killed its worker every time.</summary>
        public static ErrorRecord ItemFailed(Exception error, object? item)
        {
            switch (error)
            {
                case ItemTimeoutException timeout:
                    return new ErrorRecord(timeout, PoolItemTimeout, ErrorCategory.OperationTimeout, item);
                case WorkerTerminatedException terminated:
                    return new ErrorRecord(terminated, PoolWorkerTerminated, ErrorCategory.OperationStopped, item);
                case RemoteItemException remote:
                    var remoteRecord = DecodeRemoteRecord(remote.GetDetail());
                    var record = new ErrorRecord(remote, PoolItemFailed, Category(remoteRecord, ErrorCategory.OperationStopped), item)
                    {
                        // Shown instead of the exception's "Type: message", which the exception still carries.
                        ErrorDetails = new ErrorDetails(remote.RemoteMessage),
                    };
                    return record;
                default:
                    return new ErrorRecord(error, PoolItemFailed, ErrorCategory.NotSpecified, item);
            }
        }

        /// <summary>
        /// A non-terminating error the item's script wrote (Write-Error, a cmdlet's error) rebuilt as remoting does:
        /// a <see cref="RemoteException"/> with the remote message, the remote error id and category kept, the input
        /// item as target.
        /// </summary>
        public static ErrorRecord WrittenByItem(object? decoded, object? item)
        {
            if (decoded is not PSObject remote)
                return new ErrorRecord(new RemoteException(Convert.ToString(decoded) ?? "An item wrote an error."), PoolRemoteError, ErrorCategory.NotSpecified, item);
            var exception = remote.Properties["Exception"]?.Value as PSObject;
            string message = Text(exception?.Properties["Message"]?.Value) ?? Text(remote.Properties["ErrorCategory_Message"]?.Value) ?? remote.ToString();
            string id = Text(remote.Properties["FullyQualifiedErrorId"]?.Value) ?? PoolRemoteError;
            var category = Category(remote, ErrorCategory.NotSpecified);
            string? details = Text(remote.Properties["ErrorDetails_Message"]?.Value);
            var record = Remote(new RemoteException(message), id, category, item, remote, details)
                ?? new ErrorRecord(new RemoteException(message), id, category, item);
            if (details != null && record.ErrorDetails == null) record.ErrorDetails = new ErrorDetails(details);
            return record;
        }

        /// <summary>
        /// The constructor PowerShell uses for errors that arrive from a job or a remote session: the record counts as
        /// deserialized, so writing it does not append this cmdlet's name to the worker's FullyQualifiedErrorId
        /// (<c>PathNotFound,Microsoft.PowerShell.Commands.GetItemCommand</c> stays as it is, as with
        /// <c>ForEach-Object -Parallel</c> and <c>Receive-Job</c>). It is not public; null when this PowerShell lacks it.
        /// </summary>
        private static readonly System.Reflection.ConstructorInfo? SerializedRecordConstructor = FindSerializedRecordConstructor();

        private static System.Reflection.ConstructorInfo? FindSerializedRecordConstructor()
        {
            try
            {
                return typeof(ErrorRecord).GetConstructor(System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic, null,
                    new[] { typeof(Exception), typeof(object), typeof(string), typeof(ErrorCategory), typeof(string), typeof(string), typeof(string), typeof(string), typeof(string), typeof(string), typeof(string) },
                    null);
            }
            catch (Exception) { return null; }
        }

        private static ErrorRecord? Remote(Exception exception, string id, ErrorCategory category, object? item, PSObject remote, string? details)
        {
            if (SerializedRecordConstructor == null) return null;
            try
            {
                return (ErrorRecord)SerializedRecordConstructor.Invoke(new object?[]
                {
                    exception, item, id, category,
                    Text(remote.Properties["ErrorCategory_Activity"]?.Value), Text(remote.Properties["ErrorCategory_Reason"]?.Value),
                    Text(remote.Properties["ErrorCategory_TargetName"]?.Value), Text(remote.Properties["ErrorCategory_TargetType"]?.Value),
                    Text(remote.Properties["ErrorCategory_Message"]?.Value), details, Text(remote.Properties["ErrorDetails_RecommendedAction"]?.Value),
                });
            }
            catch (Exception) { return null; } // the plain record below still carries the id, with this cmdlet's name appended
        }

        /// <summary>The terminating error of a map that stopped as a whole.</summary>
        public static ErrorRecord MapFault(Exception fault, object? target) => fault switch
        {
            PoolTimeoutException timeout => new ErrorRecord(timeout, PoolRunTimeout, ErrorCategory.OperationTimeout, target),
            BrokenPoolException broken => new ErrorRecord(broken, PoolBroken, ErrorCategory.ResourceUnavailable, target),
            PoolClosedException closed => new ErrorRecord(closed, PoolClosed, ErrorCategory.ResourceUnavailable, target),
            MapDefinitionException definition => new ErrorRecord(definition, PoolMapDefinitionFailed, DefinitionCategory(definition.RemoteType), target),
            _ => new ErrorRecord(fault, PoolMapFailed, ErrorCategory.NotSpecified, target),
        };

        /// <summary>The caller asked for a method map whose assembly does not exist.</summary>
        public static ErrorRecord AssemblyNotFound(string path) =>
            new ErrorRecord(new System.IO.FileNotFoundException($"The assembly '{path}' does not exist.", path), PoolMapDefinitionFailed, ErrorCategory.ObjectNotFound, path);

        public static ErrorRecord UsingNotFound(string name, object? target) =>
            new ErrorRecord(new PSArgumentException($"The script block uses the variable '$using:{name}', but no variable '{name}' exists in the caller's scope."),
                UsingVariableNotFound, ErrorCategory.ObjectNotFound, target);

        public static ErrorRecord NotSerializable(Exception error, object? item, long position) =>
            new ErrorRecord(new PSArgumentException($"{ItemNames.Capitalized(ItemNames.Name(position - 1, Mapping.ItemText.ShortForm(item)))} cannot be serialized for a worker: {error.Message}", error),
                ItemNotSerializable, ErrorCategory.InvalidData, item);

        public static ErrorRecord NotFound(string name) =>
            new ErrorRecord(new ItemNotFoundException($"No process pool named '{name}' exists. Get-ProcessPool lists the pools of this session."), PoolNotFound, ErrorCategory.ObjectNotFound, name);

        public static ErrorRecord NameInUse(string name) =>
            new ErrorRecord(new PSArgumentException($"A process pool named '{name}' already exists. Remove it with Remove-ProcessPool or choose another name."), PoolNameInUse, ErrorCategory.ResourceExists, name);

        public static ErrorRecord NameReserved(string name) =>
            new ErrorRecord(new PSArgumentException($"The name '{name}' is reserved for the default pools that Invoke-PoolMap uses without -Pool. Choose another name."),
                PoolNameReserved, ErrorCategory.InvalidArgument, name);

        public static ErrorRecord ThrottleLimitWithPool(ProcessPoolHandle pool) =>
            new ErrorRecord(new PSArgumentException($"-ThrottleLimit chooses the size of the default pool and cannot be used with -Pool: the pool '{pool.Name}' has {pool.Size} workers. " +
                "Use New-ProcessPool -Size (or -ThrottleLimit) to make a pool of the size you want."), PoolThrottleLimitWithPool, ErrorCategory.InvalidArgument, pool);

        public static ErrorRecord VariableNotFound(string name) =>
            new ErrorRecord(new ItemNotFoundException($"No variable named '{name}' exists in the caller's scope to copy into the pool."), PoolVariableNotFound, ErrorCategory.ObjectNotFound, name);

        public static ErrorRecord FunctionNotFound(string name) =>
            new ErrorRecord(new ItemNotFoundException($"No function named '{name}' exists in the caller's scope to copy into the pool."), PoolFunctionNotFound, ErrorCategory.ObjectNotFound, name);

        public static ErrorRecord MethodSetupMissing(string assemblyPath) =>
            new ErrorRecord(new PSArgumentException("-AssemblyPath names the assembly of an initializer or finalizer method; give -InitializerMethod, -FinalizerMethod or both."),
                PoolMethodSetupMissing, ErrorCategory.InvalidArgument, assemblyPath);

        public static ErrorRecord JobLogFailed(string path, Exception error) =>
            new ErrorRecord(new PSInvalidOperationException($"The job log '{path}' cannot be written: {error.Message}", error), PoolJobLogFailed, ErrorCategory.WriteError, path);

        private static ErrorCategory DefinitionCategory(string? remoteType) => remoteType switch
        {
            "System.IO.FileNotFoundException" or "System.TypeLoadException" or "System.MissingMethodException" => ErrorCategory.ObjectNotFound,
            "System.Management.Automation.ParseException" => ErrorCategory.ParserError,
            _ => ErrorCategory.InvalidArgument,
        };

        private static PSObject? DecodeRemoteRecord(byte[]? detail)
        {
            if (detail == null || detail.Length == 0) return null;
            try { return PSCodec.Decode(new ArraySegment<byte>(detail)) as PSObject; }
            catch (Exception) { return null; } // the detail is a courtesy; the item's failure stands without it
        }

        private static ErrorCategory Category(PSObject? remote, ErrorCategory fallback)
        {
            object? value = remote?.Properties["ErrorCategory_Category"]?.Value;
            if (value is PSObject wrapped) value = wrapped.BaseObject;
            try { return value == null ? fallback : (ErrorCategory)Convert.ToInt32(value); }
            catch (Exception) { return fallback; }
        }

        private static string? Text(object? value)
        {
            string? text = value is PSObject pso ? pso.BaseObject?.ToString() : value?.ToString();
            return string.IsNullOrEmpty(text) ? null : text;
        }
    }
}
