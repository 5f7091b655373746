namespace ProcessPool.Engine
{
    /// <summary>What an item emitted: its output, or a record on one of the PowerShell-style streams.</summary>
    public enum RecordKind : byte
    {
        /// <summary>A result value.</summary>
        Output = 0,
        /// <summary>A non-terminating error.</summary>
        Error = 1,
        /// <summary>A warning.</summary>
        Warning = 2,
        /// <summary>A verbose message.</summary>
        Verbose = 3,
        /// <summary>A debug message.</summary>
        Debug = 4,
        /// <summary>An information record (including host output).</summary>
        Information = 5,
        /// <summary>A progress record.</summary>
        Progress = 6,
    }
}
