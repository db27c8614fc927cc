import { ImgxError } from "../../core/errors.ts";
import type { DockerReference } from "../../core/reference.ts";
import type { ImageSink, ImageSource, RegistryOptions } from "../types.ts";

const todo = () => new ImgxError("UNSUPPORTED", "Cannot reach registries yet: the registry transport is being written");
export async function openRegistrySource(_r: DockerReference, _o: RegistryOptions): Promise<ImageSource> { throw todo(); }
export async function openRegistrySink(_r: DockerReference, _o: RegistryOptions): Promise<ImageSink> { throw todo(); }
export async function listTags(_r: DockerReference, _o: RegistryOptions): Promise<string[]> { throw todo(); }
export async function resolveDigest(_r: DockerReference, _o: RegistryOptions): Promise<string> { throw todo(); }
export async function login(_r: string, _u: string, _p: string, _o: RegistryOptions): Promise<void> { throw todo(); }
export async function logout(_r: string): Promise<void> { throw todo(); }
