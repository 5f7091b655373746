#Requires -Version 5.1
<#
.SYNOPSIS
    The one build entry of ProcessPool.
.DESCRIPTION
    Build:   compiles the solution; the PoolCmdlets build lays the module out in out/ProcessPool, compiled help included.
    Docs:    regenerates the compiled help in module/en-US from the PlatyPS markdown in docs/help/en-US (needs platyPS
             0.14.2 installed), then builds. The compiled help is committed, so no other task needs platyPS.
    Test:    builds, then runs the engine's xunit tests and the Pester suite with its full output.
    Package: Release build, then out/ProcessPool-<version>.zip of the module folder.

    The tools are pinned in the repository and come through .NET's own commands: Pester from NuGet (restored with
    tests/PesterRunner), and, where pwsh is not on PATH, PowerShell from the local tool manifest (.config). 'dotnet test'
    at the repository root runs the same xunit and Pester tests.
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
. (Join-Path $PSScriptRoot 'tools/Find-PowerShell.ps1')

$PlatyPSVersion = '0.14.2'
$ModuleDir = Join-Path $PSScriptRoot 'out/ProcessPool'

function Invoke-Dotnet {
    & dotnet @args
    if ($LASTEXITCODE -ne 0) { throw "dotnet $($args -join ' ') failed with exit code $LASTEXITCODE" }
}

function Invoke-Build {
    Invoke-Dotnet build --configuration $Configuration
    if (-not (Test-Path (Join-Path $ModuleDir 'ProcessPool.psd1'))) { throw "The build did not lay out the module in $ModuleDir." }
}

function Invoke-Docs {
    $platyPS = Get-Module -ListAvailable -Name platyPS | Where-Object Version -EQ ([version]$PlatyPSVersion) | Select-Object -First 1
    if (-not $platyPS) {
        throw "Regenerating the help needs platyPS $PlatyPSVersion (Install-Module platyPS -RequiredVersion $PlatyPSVersion). " +
            'The compiled help in module/en-US is committed; the HelpSource tests say whether it matches docs/help.'
    }
    Import-Module $platyPS -Force
    $null = New-ExternalHelp -Path (Join-Path $PSScriptRoot 'docs/help/en-US') -OutputPath (Join-Path $PSScriptRoot 'module/en-US') -Force
    Write-Host "Help -> $(Join-Path $PSScriptRoot 'module/en-US')"
}

# Pester's module file in the NuGet package folder, restored at the version tests/PesterRunner pins.
function Get-PesterPath {
    $project = Join-Path $PSScriptRoot 'tests/PesterRunner/PesterRunner.csproj'
    Invoke-Dotnet restore $project
    $path = & dotnet msbuild $project -getProperty:PesterModulePath
    if ($LASTEXITCODE -ne 0 -or -not (Test-Path -LiteralPath $path)) { throw "Pester was not restored (looked for '$path')." }
    $path
}

function Invoke-Tests {
    Invoke-Dotnet test (Join-Path $PSScriptRoot 'tests/PoolEngine.Tests/PoolEngine.Tests.csproj') --configuration $Configuration --no-build
    $pester = Get-PesterPath
    Invoke-PowerShell '-NoProfile', '-NonInteractive', '-File', (Join-Path $PSScriptRoot 'tests/Pester/Invoke-PesterSuite.ps1'),
        '-ModulePath', (Join-Path $ModuleDir 'ProcessPool.psd1'), '-PesterPath', $pester
    if ($LASTEXITCODE -ne 0) { throw "The Pester suite failed ($LASTEXITCODE failures)." }
}

switch ($Task) {
    'Build' { Invoke-Build }
    'Docs' { Invoke-Docs; Invoke-Build }
    'Test' { Invoke-Build; Invoke-Tests }
    'Package' {
        $Configuration = 'Release'
        Invoke-Build
        $version = (Import-PowerShellDataFile (Join-Path $ModuleDir 'ProcessPool.psd1')).ModuleVersion
        $zip = Join-Path $PSScriptRoot "out/ProcessPool-$version.zip"
        Compress-Archive -Path $ModuleDir -DestinationPath $zip -Force
        Write-Host "Package -> $zip"
    }
}
