#Requires -Version 5.1
<#
.SYNOPSIS
    The one build entry of ProcessPool.
.DESCRIPTION
    Build:   compiles the solution; the PoolCmdlets build lays the module out in out/ProcessPool.
    Docs:    builds, then compiles the PlatyPS markdown in docs/help/en-US into out/ProcessPool/en-US.
    Test:    builds and the help, then runs the xunit tests (dotnet test) and the Pester suite (tests/Pester).
    Package: Release build and help, then out/ProcessPool-<version>.zip of the module folder.

    Pester and platyPS are installed from the PowerShell Gallery, at the pinned versions below, only when they are
    missing. CI does not call this script: it runs 'dotnet test', which runs the Pester suite when pwsh is on PATH.
.EXAMPLE
    ./build.ps1 -Task Test
.EXAMPLE
    ./build.ps1 -Task Package -Configuration Release
#>
[CmdletBinding()]
param(
    [ValidateSet('Build', 'Docs', 'Test', 'Package')]
    [string] $Task = 'Build',

    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release'
)

$ErrorActionPreference = 'Stop'
Set-Location $PSScriptRoot

$PinnedTools = @{ Pester = '5.9.0'; platyPS = '0.14.2' }
$ModuleDir = Join-Path $PSScriptRoot 'out/ProcessPool'

function Invoke-Dotnet {
    & dotnet @args
    if ($LASTEXITCODE -ne 0) { throw "dotnet $($args -join ' ') failed with exit code $LASTEXITCODE" }
}

function Use-PinnedModule([string] $Name) {
    $version = $PinnedTools[$Name]
    if (-not (Get-Module -ListAvailable -Name $Name | Where-Object { $_.Version -eq [version]$version })) {
        Write-Host "Installing $Name $version from the PowerShell Gallery (current user)"
        Install-Module -Name $Name -RequiredVersion $version -Scope CurrentUser -Force -SkipPublisherCheck -AllowClobber -Repository PSGallery
    }
    Import-Module -Name $Name -RequiredVersion $version -Force
}

function Invoke-Build {
    Invoke-Dotnet build --configuration $Configuration
    if (-not (Test-Path (Join-Path $ModuleDir 'ProcessPool.psd1'))) { throw "The build did not lay out the module in $ModuleDir." }
}

function Invoke-Docs {
    Use-PinnedModule platyPS
    $null = New-ExternalHelp -Path (Join-Path $PSScriptRoot 'docs/help/en-US') -OutputPath (Join-Path $ModuleDir 'en-US') -Force
    Write-Host "Help -> $(Join-Path $ModuleDir 'en-US')"
}

function Invoke-Tests {
    # The engine's xunit tests first; the Pester suite then runs directly (not through tests/PesterRunner), with its full output.
    Invoke-Dotnet test (Join-Path $PSScriptRoot 'tests/PoolEngine.Tests/PoolEngine.Tests.csproj') --configuration $Configuration --no-build
    Use-PinnedModule Pester
    $pwsh = (Get-Process -Id $PID).Path
    & $pwsh -NoProfile -NonInteractive -File (Join-Path $PSScriptRoot 'tests/Pester/Invoke-PesterSuite.ps1') -ModulePath (Join-Path $ModuleDir 'ProcessPool.psd1')
    if ($LASTEXITCODE -ne 0) { throw "The Pester suite failed ($LASTEXITCODE failures)." }
}

switch ($Task) {
    'Build' { Invoke-Build }
    'Docs' { Invoke-Build; Invoke-Docs }
    'Test' { Invoke-Build; Invoke-Docs; Invoke-Tests }
    'Package' {
        $Configuration = 'Release'
        Invoke-Build
        Invoke-Docs
        $version = (Import-PowerShellDataFile (Join-Path $ModuleDir 'ProcessPool.psd1')).ModuleVersion
        $zip = Join-Path $PSScriptRoot "out/ProcessPool-$version.zip"
        Compress-Archive -Path $ModuleDir -DestinationPath $zip -Force
        Write-Host "Package -> $zip"
    }
}
