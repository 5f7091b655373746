@{
    RootModule           = 'ProcessPool.dll'
    ModuleVersion        = '0.1.0'
    GUID                 = '5a1bc207-3019-41a1-ad9f-0785194c1c02'
    Author               = 'ProcessPool contributors'
    CompanyName          = 'ProcessPool'
    Copyright            = '(c) ProcessPool contributors.'
    Description          = 'Process-pool parallelism for PowerShell: script blocks or static .NET methods run over pipeline input in a pool of reused worker processes, with bounded memory, ordered or as-completed output, crash isolation, timeouts and retries.'
    PowerShellVersion    = '5.1'
    CompatiblePSEditions = @('Core', 'Desktop')
    FormatsToProcess     = @('ProcessPool.Format.ps1xml')
    CmdletsToExport      = @(
        'Invoke-PoolMap'
        'New-ProcessPool'
        'Get-ProcessPool'
        'Remove-ProcessPool'
        'Receive-PoolResult'
    )
    FunctionsToExport    = @()
    VariablesToExport    = @()
    AliasesToExport      = @()
    PrivateData          = @{
        PSData = @{
            Tags         = @('parallel', 'multiprocessing', 'pool', 'process', 'performance')
            LicenseUri   = 'https://github.com/ProcessPool/ProcessPool/blob/main/LICENSE'
            ProjectUri   = 'https://github.com/ProcessPool/ProcessPool'
            ReleaseNotes = 'See CHANGELOG.md.'
        }
    }
}
