#Requires -Version 7.0
<#
.SYNOPSIS
    Runs the Pester suite against a built module and prints one 'PESTER-FAILED: <test>' line per failure.
.DESCRIPTION
    Used by build.ps1 -Task Test and by the tests/PesterRunner xunit project (under dotnet test). Pester is the pinned
    NuGet package that the restore of tests/PesterRunner brings (-PesterPath names its Pester.psd1).
    Exit code: 0 when every test passed, otherwise the number of failed tests, blocks and containers; the summary
    line counts failed blocks and containers as failed too.
#>
[CmdletBinding()]
param(
    [string] $ModulePath = (Join-Path $PSScriptRoot '../../out/ProcessPool/ProcessPool.psd1'),
    [Parameter(Mandatory)]
    [string] $PesterPath,
    [string] $ResultPath,
    [string[]] $Path = @($PSScriptRoot)
)

$ErrorActionPreference = 'Stop'
Import-Module -Name $PesterPath -ErrorAction Stop
$env:PROCESSPOOL_MODULE = (Resolve-Path -LiteralPath $ModulePath).ProviderPath

$config = New-PesterConfiguration
$config.Run.Path = $Path
$config.Run.PassThru = $true
$config.Output.Verbosity = 'Detailed'
if ($ResultPath) {
    $config.TestResult.Enabled = $true
    $config.TestResult.OutputPath = $ResultPath
}
$result = Invoke-Pester -Configuration $config
if ($null -eq $result) {
    'PESTER-FAILED: Invoke-Pester returned no result (the run itself failed)'
    exit 1
}

foreach ($test in $result.Failed) { "PESTER-FAILED: $($test.ExpandedPath)" }
foreach ($block in $result.FailedBlocks) { "PESTER-FAILED: $($block.ExpandedPath) (setup or teardown)" }
foreach ($container in $result.FailedContainers) { "PESTER-FAILED: $($container.Item) (the file failed to run)" }
$failures = $result.FailedCount + $result.FailedBlocksCount + $result.FailedContainersCount
if ($failures -eq 0 -and $result.Result -ne 'Passed') { $failures = 1 }
"PESTER-SUMMARY: passed $($result.PassedCount), failed $failures, skipped $($result.SkippedCount + $result.NotRunCount), total $($result.TotalCount)"
exit $failures
